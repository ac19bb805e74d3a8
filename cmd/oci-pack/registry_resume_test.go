package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRegistryResumeAfterKill: a push of a 1 GiB blob killed with SIGKILL
// halfway, then re-run, sends less than 60% of the blob again (counted by
// a recording proxy in front of a real distribution registry) and ends
// with the registry holding the same digest; the same for a pull into a
// fresh layout, which then verifies. The figures are logged (-v).
func TestRegistryResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 1 GiB several times")
	}
	reg := startRegistry(t)
	rec := startRecorder(t, reg)
	const size = 1 << 30
	dir := t.TempDir()
	file := filepath.Join(dir, "weights.bin")
	writeRandom(t, file, size, 16)
	src := filepath.Join(dir, "src")
	digest := strings.TrimSpace(regMust(t, "pack", src+":v1", file, "--artifact-type", "application/vnd.test.model", "-q").stdout)
	os.Remove(file)
	ref := rec.Addr + "/big/model:v1"

	t.Run("push", func(t *testing.T) {
		rec.reset()
		killHalfway(t, &rec.up, size, "push", src+":v1", ref, "--plain-http")
		first := rec.up.Load()
		rec.reset()
		r := regMust(t, "push", src+":v1", ref, "--plain-http")
		again := rec.up.Load()
		t.Logf("push: killed after %d bytes sent; the re-run sent %d bytes (%.1f%% of the blob); %s", first, again, 100*float64(again)/size, firstLine(r.stderr, "resumed at"))
		if !strings.Contains(r.stderr, "resumed at") {
			t.Errorf("the re-run did not say it resumed:\n%s", r.stderr)
		}
		if again >= size*6/10 {
			t.Errorf("the re-run sent %d bytes, want < 60%% of %d", again, size)
		}
		if got := manifestDigest(t, reg, "big/model", "v1"); got != digest {
			t.Errorf("registry has %s for v1, pushed %s", got, digest)
		}
		if _, err := os.ReadDir(filepath.Join(src, ".oci-pack", "resume")); err == nil {
			if es, _ := os.ReadDir(filepath.Join(src, ".oci-pack", "resume")); len(es) > 0 {
				t.Errorf("upload state left after a finished push: %v", es)
			}
		}
	})

	t.Run("pull", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "dst")
		rec.reset()
		killHalfway(t, &rec.down, size, "pull", ref, dst, "--plain-http")
		first := rec.down.Load()
		rec.reset()
		r := regMust(t, "pull", ref, dst, "--plain-http")
		again := rec.down.Load()
		t.Logf("pull: killed after %d bytes received; the re-run received %d bytes (%.1f%% of the blob); %s", first, again, 100*float64(again)/size, firstLine(r.stderr, "resumed at"))
		if !strings.Contains(r.stderr, "resumed at") {
			t.Errorf("the re-run did not say it resumed:\n%s", r.stderr)
		}
		if again >= size*6/10 {
			t.Errorf("the re-run received %d bytes, want < 60%% of %d", again, size)
		}
		if got := strings.TrimSpace(r.stdout); got != digest {
			t.Errorf("pulled %s, pushed %s", got, digest)
		}
		regMust(t, "verify", dst)
		if es, _ := os.ReadDir(filepath.Join(dst, ".oci-pack", "resume")); len(es) > 0 {
			t.Errorf("download state left after a finished pull: %v", es)
		}
	})
}

// killHalfway starts oci-pack with args and SIGKILLs it once counter has
// passed half of size.
func killHalfway(t *testing.T, counter *atomic.Int64, size int64, args ...string) {
	t.Helper()
	cmd := exec.Command(bin(t), args...)
	cmd.Env = append(os.Environ(), regEnv(t)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(5 * time.Minute)
	for counter.Load() < size/2 {
		select {
		case err := <-done:
			t.Fatalf("oci-pack %s ended (%v) before it was killed, after %d bytes", args[0], err, counter.Load())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("oci-pack %s: only %d bytes after 5 minutes", args[0], counter.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
	cmd.Process.Kill()
	<-done
}

// manifestDigest asks the registry which digest ref names.
func manifestDigest(t *testing.T, reg, repo, ref string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodHead, "http://"+reg+"/v2/"+repo+"/manifests/"+ref, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Docker-Content-Digest")
}

func firstLine(s, containing string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, containing) {
			return l
		}
	}
	return ""
}

// TestPushStartsOverWhenRegistryForgot: when the registry no longer has
// the upload session an interrupted push recorded, the re-run says so,
// starts that blob over and still ends with the right digest.
func TestPushStartsOverWhenRegistryForgot(t *testing.T) {
	reg, regDir := startRegistryIn(t)
	rec := startRecorder(t, reg)
	const size = 64 << 20
	dir := t.TempDir()
	file := filepath.Join(dir, "w.bin")
	writeRandom(t, file, size, 7)
	src := filepath.Join(dir, "src")
	digest := strings.TrimSpace(regMust(t, "pack", src+":v1", file, "--artifact-type", "application/vnd.test.model", "-q").stdout)
	ref := rec.Addr + "/forgot/model:v1"
	killHalfway(t, &rec.up, size, "push", src+":v1", ref, "--plain-http", "--chunk-size", "1MiB")
	uploads, _ := filepath.Glob(filepath.Join(regDir, "data", "docker", "registry", "v2", "repositories", "forgot", "model", "_uploads", "*"))
	if len(uploads) == 0 {
		t.Fatal("the registry holds no upload session to forget")
	}
	for _, u := range uploads {
		os.RemoveAll(u)
	}
	rec.reset()
	r := regMust(t, "push", src+":v1", ref, "--plain-http", "--chunk-size", "1MiB")
	if !strings.Contains(r.stderr, "no longer has the upload session") || strings.Contains(r.stderr, "resumed at") {
		t.Errorf("the re-run did not say it started over:\n%s", r.stderr)
	}
	if got := rec.up.Load(); got < size {
		t.Errorf("the re-run sent %d bytes of a %d-byte blob the registry had forgotten", got, size)
	}
	if got := manifestDigest(t, reg, "forgot/model", "v1"); got != digest {
		t.Errorf("registry has %s for v1, pushed %s", got, digest)
	}
}
