package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/layouttest"
)

// blobSet lists the blob file names of a layout.
func blobSet(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// verified runs layout.Verify (full re-hash) and fails on any problem.
func verified(t testing.TB, dir string) {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep, err := l.Verify(ctx, layout.VerifyOptions{})
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("verify %s: %v %v", dir, err, rep.Problems)
	}
	layouttest.Check(t, dir)
}

func TestRoundTrip(t *testing.T) {
	src, _, _, _ := twoTags(t)
	whole := exportBytes(t, src, ExportOptions{})
	for _, tc := range []struct {
		name  string
		split int64
		alg   compress.Algorithm
	}{
		{"unsplit", 0, compress.None},
		{"split-64KiB", 64 << 10, compress.None},
		{"zstd", 0, compress.Zstd},
		{"gzip-split", 100 << 10, compress.Gzip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "all.tar")
			vw, err := CreateVolumes(out, tc.split)
			if err != nil {
				t.Fatal(err)
			}
			var w io.Writer = vw
			var cw io.WriteCloser
			if tc.alg != compress.None {
				cw, err = compress.NewWriter(vw, tc.alg, compress.Options{Concurrency: 2})
				if err != nil {
					t.Fatal(err)
				}
				w = cw
			}
			l, err := layout.Open(src, layout.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Export(ctx, l, w, ExportOptions{})
			l.Close()
			if err != nil {
				t.Fatal(err)
			}
			if cw != nil {
				if err := cw.Close(); err != nil {
					t.Fatal(err)
				}
			}
			vols, err := vw.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if res.TarBytes != int64(len(whole)) {
				t.Errorf("TarBytes %d, archive is %d", res.TarBytes, len(whole))
			}
			var joined []byte
			var paths []string
			for i, v := range vols {
				b := readFile(t, v.Path)
				if tc.split > 0 && (int64(len(b)) > tc.split || v.Path != fmt.Sprintf("%s.%03d", out, i)) {
					t.Errorf("volume %s: %d bytes, split %d", v.Path, len(b), tc.split)
				}
				joined = append(joined, b...)
				paths = append(paths, v.Path)
			}
			if tc.split > 0 && len(vols) < 3 {
				t.Errorf("only %d volumes", len(vols))
			}
			if tc.alg == compress.None && !bytes.Equal(joined, whole) {
				t.Error("the volumes joined differ from the unsplit export")
			}
			if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*.partial")); len(matches) > 0 {
				t.Errorf("left behind: %v", matches)
			}
			// Import from the first volume only: the rest are found and
			// checked against the sidecar.
			vr, err := OpenVolumes(paths[:1])
			if err != nil {
				t.Fatal(err)
			}
			if vr.Sidecar() == "" || len(vr.Paths()) != len(vols) {
				t.Fatalf("sidecar %q, %d volumes found of %d", vr.Sidecar(), len(vr.Paths()), len(vols))
			}
			dst := filepath.Join(t.TempDir(), "dst")
			ir, err := importInto(t, dst, vr, ImportOptions{Verify: vr.Finish})
			if err != nil {
				t.Fatal(err)
			}
			if ir.Compression != tc.alg || ir.Imported != res.Blobs || ir.ImportedBytes != res.BlobBytes {
				t.Errorf("import %+v, export %+v", ir, res)
			}
			verified(t, dst)
			if a, b := readFile(t, filepath.Join(dst, "index.json")), readFile(t, filepath.Join(src, "index.json")); !bytes.Equal(a, b) {
				t.Errorf("index.json after import\n%s\nsource\n%s", a, b)
			}
			if a, b := blobSet(t, dst), blobSet(t, src); strings.Join(a, ",") != strings.Join(b, ",") {
				t.Errorf("blobs differ: %v vs %v", a, b)
			}
		})
	}
}

// TestImportAgain: re-importing changes nothing and reuses every blob.
func TestImportAgain(t *testing.T) {
	src, _, _, _ := twoTags(t)
	b := exportBytes(t, src, ExportOptions{})
	dst := filepath.Join(t.TempDir(), "dst")
	first, err := importInto(t, dst, bytes.NewReader(b), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := readFile(t, filepath.Join(dst, "index.json"))
	res, err := importInto(t, dst, bytes.NewReader(b), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 0 || res.Reused != first.Imported || res.ReusedBytes != first.ImportedBytes || first.ImportedBytes < 300_000 {
		t.Errorf("second import %+v: want everything reused", res)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dst, "index.json")), before) {
		t.Error("index.json changed on re-import")
	}
	for _, ch := range res.Tags {
		if ch.Old != ch.New {
			t.Errorf("tag %s moved on re-import: %+v", ch.Name, ch)
		}
	}
}

func TestImportTagConflict(t *testing.T) {
	src := goodLayout(t)
	b := exportBytes(t, src, ExportOptions{})
	tg := newTarget(t)
	l := openLayout(t, tg.dir)
	old := packTag(t, l, "v1", 77, map[string]int{"other.bin": 10}, nil)
	l.Close()
	tg.index = readFile(t, filepath.Join(tg.dir, "index.json"))

	_, err := importInto(t, tg.dir, bytes.NewReader(b), ImportOptions{})
	if !errors.Is(err, layout.ErrTagExists) || !strings.Contains(err.Error(), `tag "v1" exists in layout with `+old.Digest.String()) {
		t.Fatalf("err = %v, want tag conflict naming v1 and %s", err, old.Digest)
	}
	tg.unchanged(t)

	res, err := importInto(t, tg.dir, bytes.NewReader(b), ImportOptions{Conflict: layout.ConflictSkip})
	if err != nil || len(res.Tags) != 1 || !res.Tags[0].Skipped {
		t.Fatalf("skip: %+v %v", res, err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(tg.dir, "index.json")), tg.index) {
		t.Error("index.json changed with --tag-conflict skip")
	}
	res, err = importInto(t, tg.dir, bytes.NewReader(b), ImportOptions{Conflict: layout.ConflictOverwrite})
	if err != nil || len(res.Tags) != 1 || res.Tags[0].Old != old.Digest || res.Tags[0].New == old.Digest {
		t.Fatalf("overwrite: %+v %v", res, err)
	}
	verified(t, tg.dir)
}

// TestImportForeignLayouts: skopeo's oci-archive puts index.json before
// oci-layout; `tar -cf x.tar -C layout .` names entries "./…", includes
// "./" and other tools' scratch (oras's ingest/, our .oci-pack/), and GNU
// tar pads with zero records.
func TestImportForeignLayouts(t *testing.T) {
	ms := members(t, exportBytes(t, goodLayout(t), ExportOptions{}))
	skopeoOrder := append([]member{}, ms[1:len(ms)-1]...)
	skopeoOrder = append(skopeoOrder, ms[len(ms)-1], ms[0])
	dotted := []member{{hdr: dirHeader("./")}, {hdr: dirHeader("./ingest/")}, regular("./ingest/partial-123", []byte("half a blob")),
		{hdr: dirHeader("./.oci-pack/")}, regular("./.oci-pack/gc.lock", nil)}
	for _, m := range ms {
		m.hdr.Name = "./" + m.hdr.Name
		dotted = append(dotted, m)
	}
	for name, a := range map[string][]byte{
		"skopeo-order": build(t, skopeoOrder),
		"tar-of-dir":   append(build(t, dotted), make([]byte, 10240)...),
	} {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(t)
			res, err := importInto(t, tg.dir, bytes.NewReader(a), ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Imported != 3 || res.Reused != 1 || len(res.Tags) != 1 || res.Tags[0].Name != "v1" {
				t.Errorf("result %+v", res)
			}
			verified(t, tg.dir)
			if _, err := os.Stat(filepath.Join(tg.dir, "ingest")); err == nil {
				t.Error("ingest/ was written into the layout")
			}
		})
	}
}

// Input in a format import does not read is named, not called an invalid
// tar header.
func TestImportForeignFormat(t *testing.T) {
	for name, head := range map[string]string{
		"bzip2-compressed": "BZh91AY&SY",
		"xz-compressed":    "\xfd7zXZ\x00\x00\x04",
		"a zip file":       "PK\x03\x04\x14\x00",
	} {
		l := openLayout(t, filepath.Join(t.TempDir(), "L"))
		_, err := Import(context.Background(), l, strings.NewReader(head+strings.Repeat("\x00", 600)), ImportOptions{})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "the archive is "+name) {
			t.Errorf("%s: error %v, want ErrInvalid naming the format", name, err)
		}
	}
}
