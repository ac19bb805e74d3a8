package archive

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
)

// Issue 12 class 10: tarballs that hold an OCI layout plus extra files
// import, the extra files ignored and never written; every other rule of
// the layout shape still holds for them (TestImportExtraFilesStrict).

// dockerSaveShape lays ms out as `docker save` of Docker ≥ 25 does: entries
// in name order (blobs/ and blobs/sha256/ directories first, oci-layout
// after index.json), plus manifest.json and repositories.
func dockerSaveShape(t testing.TB, ms []member) []member {
	var out []member
	for _, m := range ms {
		if m.hdr.Typeflag == tar.TypeDir {
			m.hdr.Name = strings.TrimSuffix(m.hdr.Name, "/") + "/"
		}
		out = append(out, m)
	}
	out = append(out,
		regular("manifest.json", []byte(`[{"Config":"blobs/sha256/x","RepoTags":["good:v1"],"Layers":[]}]`)),
		regular("repositories", []byte(`{"good":{"v1":"x"}}`)))
	sort.Slice(out, func(i, j int) bool { return out[i].hdr.Name < out[j].hdr.Name })
	return out
}

// regctlShape lays ms out as `regctl image export` does: oci-layout,
// index.json and manifest.json first, then the blobs/ directories and
// blobs.
func regctlShape(t testing.TB, ms []member) []member {
	out := []member{ms[find(t, ms, "oci-layout")], ms[find(t, ms, "index.json")],
		regular("manifest.json", []byte(`[{"Config":"blobs/sha256/x","RepoTags":["localhost/good:v1"],"Layers":[]}]`)),
		{hdr: dirHeader("blobs/")}, {hdr: dirHeader("blobs/sha256/")}}
	for _, m := range ms {
		if strings.HasPrefix(m.hdr.Name, "blobs/sha256/") && m.hdr.Typeflag == tar.TypeReg {
			out = append(out, m)
		}
	}
	return out
}

func TestImportLayoutPlusExtraFiles(t *testing.T) {
	ms, _ := goodMembers(t)
	for name, archive := range map[string][]byte{
		"docker save":          build(t, dockerSaveShape(t, ms)),
		"regctl image export":  build(t, regctlShape(t, ms)),
		"extra file last":      build(t, append(append([]member(nil), ms...), regular("README.md", []byte("# notes")))),
		"extra file, gzipped":  compressed(t, build(t, dockerSaveShape(t, ms)), "gzip"),
		"extra file, zstd'ed":  compressed(t, build(t, regctlShape(t, ms)), "zstd"),
		"extra empty file":     build(t, inserted(ms, regular("VERSION", nil))),
		"extra file ./-prefix": build(t, inserted(ms, regular("./repositories", []byte("{}")))),
	} {
		t.Run(name, func(t *testing.T) {
			assertImportsIgnoringExtras(t, archive)
		})
	}
}

// assertImportsIgnoringExtras imports archive into a new target: tag v1
// lands, the layout verifies, and nothing but the layout's own files was
// written in it or beside it.
func assertImportsIgnoringExtras(t *testing.T, archive []byte) {
	t.Helper()
	tg := newTarget(t)
	res, err := importInto(t, tg.dir, bytes.NewReader(archive), ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if len(res.Tags) != 1 || res.Tags[0].Name != "v1" {
		t.Fatalf("tags changed %+v, want v1", res.Tags)
	}
	layouttest.Check(t, tg.dir)
	err = filepath.WalkDir(tg.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tg.dir, p)
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		switch top {
		case ".", layout.LayoutFile, layout.IndexFile, layout.BlobsDir, layout.PrivateDir:
			return nil
		}
		t.Errorf("import wrote %s into the layout", rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := treeListing(t, tg.parent, tg.dir); got != tg.listing {
		t.Errorf("files outside the layout changed:\n%s", got)
	}
}

// TestImportExtraFilesStrict: an extra file is ignored only as a regular
// file at the top under a clean name, once; any other shape of it is
// refused as before, with the layout untouched.
func TestImportExtraFilesStrict(t *testing.T) {
	ms, _ := goodMembers(t)
	extra := func(h tar.Header) []byte { return build(t, inserted(ms, member{hdr: h})) }
	runHostile(t, []hostileCase{
		{"symlink manifest.json", extra(tar.Header{Typeflag: tar.TypeSymlink, Name: "manifest.json", Linkname: "/etc/passwd"}), ErrInvalid, []string{`symlink for "manifest.json"`}, ImportOptions{}},
		{"hardlink repositories", extra(tar.Header{Typeflag: tar.TypeLink, Name: "repositories", Linkname: "index.json"}), ErrInvalid, []string{"hardlink", `"repositories"`}, ImportOptions{}},
		{"FIFO repositories", extra(tar.Header{Typeflag: tar.TypeFifo, Name: "repositories"}), ErrInvalid, []string{`FIFO for "repositories"`}, ImportOptions{}},
		{"device manifest.json", extra(tar.Header{Typeflag: tar.TypeChar, Name: "manifest.json", Devmajor: 1, Devminor: 3}), ErrInvalid, []string{"character device", `"manifest.json"`}, ImportOptions{}},
		{"duplicate manifest.json", build(t, inserted(ms, regular("manifest.json", []byte("[]")), regular("./manifest.json", []byte("[1]")))), ErrInvalid, []string{`duplicate archive entry "./manifest.json"`}, ImportOptions{}},
		{"traversal", build(t, inserted(ms, regular("../manifest.json", []byte("[]")))), ErrInvalid, []string{`"../manifest.json"`, "traversal"}, ImportOptions{}},
		{"absolute", build(t, inserted(ms, regular("/manifest.json", []byte("[]")))), ErrInvalid, []string{`"/manifest.json"`, "absolute"}, ImportOptions{}},
		{"backslash", build(t, inserted(ms, regular(`x\manifest.json`, []byte("[]")))), ErrInvalid, []string{"backslash"}, ImportOptions{}},
		{"extra directory", extra(dirHeader("manifest.json/")), ErrInvalid, []string{`"manifest.json/" is outside the OCI layout shape`}, ImportOptions{}},
	})
}

// TestImportRegctlExport imports what the real `regctl image export`
// writes (regctl from scripts/tools.sh; skipped without it unless CI).
func TestImportRegctlExport(t *testing.T) {
	regctl := layouttest.Tool(t, "regctl")
	src := goodLayout(t)
	out := filepath.Join(t.TempDir(), "regctl.tar")
	cmd := exec.Command(regctl, "image", "export", "ocidir://"+src+":v1", out)
	cmd.Env = append(os.Environ(), "REGCTL_CONFIG="+filepath.Join(t.TempDir(), "regctl.json"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("regctl image export: %v\n%s", err, b)
	}
	archive := readFile(t, out)
	ms := members(t, archive)
	if ms[find(t, ms, "manifest.json")].hdr.Typeflag != tar.TypeReg || find(t, ms, "index.json") > find(t, ms, "blobs/") {
		t.Fatalf("regctl's export no longer has the shape this test is about (manifest.json, index.json before the blobs)")
	}
	assertImportsIgnoringExtras(t, archive)
}
