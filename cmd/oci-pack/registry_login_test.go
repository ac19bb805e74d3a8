package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	"golang.org/x/crypto/bcrypt"
)

// startServe runs `oci-pack serve` with args on a free loopback port and
// returns its address; the process is stopped when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), regEnv(t)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		s.Scan()
		line <- s.Text()
	}()
	select {
	case a := <-line:
		if a == "" {
			t.Fatalf("serve printed no address: %s", stderr.String())
		}
		return a
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start: %s", stderr.String())
	}
	return ""
}

// TestLoginPullFromServeWithAuth: serve behind htpasswd refuses a pull
// without credentials (exit 1, with the login hint); login checks the
// password against the registry and saves it in the Docker config; pull
// then works; logout forgets it. The password is never printed.
func TestLoginPullFromServeWithAuth(t *testing.T) {
	src := transferFixture(t, bin(t))
	const password = "correct horse battery staple"
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	os.WriteFile(htpasswd, []byte("robot:"+string(hash)+"\n"), 0o600)
	addr := startServe(t, src, "--name", "models", "--htpasswd", htpasswd)
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	run := func(stdin string, args ...string) rtest.Result {
		r := rtest.RunWith(t, rtest.Opts{Env: env, Stdin: strings.NewReader(stdin)}, args...)
		if strings.Contains(r.Stdout+r.Stderr, password) {
			t.Fatalf("oci-pack %s printed the password", args[0])
		}
		return r
	}
	dst := filepath.Join(t.TempDir(), "dst")
	r := run("", "pull", addr+"/models:v1", dst, "--plain-http", "-q")
	rtest.AssertFail(t, r, exitFailure, "401", "oci-pack login")
	if _, err := os.Stat(dst); err == nil {
		t.Error("a refused pull created the layout")
	}
	r = run("wrong password\n", "login", addr, "-u", "robot", "--password-stdin", "--plain-http", "-q")
	rtest.AssertCode(t, r, exitFailure)
	r = run(password+"\n", "login", addr, "-u", "robot", "--password-stdin", "--plain-http")
	rtest.AssertCode(t, r, exitOK)
	r = run("", "pull", addr+"/models:v1", dst, "--plain-http")
	rtest.AssertCode(t, r, exitOK)
	if got, want := txReceipt(t, bin(t), dst).Tags["v1"], txReceipt(t, bin(t), src).Tags["v1"]; got != want {
		t.Errorf("pulled %s, served %s", got, want)
	}
	rtest.AssertCode(t, run("", "logout", addr), exitOK)
	r = run("", "pull", addr+"/models:v2", dst, "--plain-http", "-q")
	rtest.AssertFail(t, r, exitFailure, "401")
}
