package layout_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// longTag is the i-th of many tags of the longest length allowed.
func longTag(prefix string, i int) string {
	s := fmt.Sprintf("%s-%06d-", prefix, i)
	return s + strings.Repeat("x", layout.MaxTagLength-len(s))
}

// overBudget writes index.json of the good layout at dir with n long tags
// on its artifact, as another tool (or an older oci-pack) could, and
// returns its size.
func overBudget(t *testing.T, dir string, a artifact, n int) int {
	t.Helper()
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	idx.SchemaVersion = 2
	for i := range n {
		d := a.manifest
		d.Annotations = map[string]string{ocispec.AnnotationRefName: longTag("t", i)}
		idx.Manifests = append(idx.Manifests, d)
	}
	b, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// fitting returns the most long tags index.json holds within the budget.
func fitting(t *testing.T, dir string, a artifact) int {
	t.Helper()
	lo, hi := 1, 1
	for overBudget(t, dir, a, hi) <= strictjson.MaxDocument {
		lo, hi = hi, hi*2
	}
	for lo+1 < hi {
		if mid := (lo + hi) / 2; overBudget(t, dir, a, mid) <= strictjson.MaxDocument {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

func openRepair(t *testing.T, dir string, mode layout.Mode, notes *[]string) *layout.Layout {
	t.Helper()
	l, err := layout.Open(dir, layout.Options{Mode: mode, LockTimeout: 10 * time.Second, Repair: true,
		Notify: func(s string) { *notes = append(*notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestRepairAllowance (RELIABILITY I14): a layout whose index.json is over
// the budget every reader applies is refused by ordinary opens, but one
// opened for repair reads it, says so, may shrink it step by step and
// never grow it, and verify names the problem until it is fixed; gc works
// on it.
func TestRepairAllowance(t *testing.T) {
	dir, a := goodLayout(t)
	fit := fitting(t, dir, a)
	total := fit + 300
	size := overBudget(t, dir, a, total)
	if size <= strictjson.MaxDocument || size > layout.RepairAllowance*strictjson.MaxDocument {
		t.Fatalf("fixture index.json is %d bytes; want it over the budget, within the allowance", size)
	}
	l, err := open(t, dir, layout.ReadOnly)
	if err == nil {
		_, err = l.Index(ctx)
	}
	if !errors.Is(err, layout.ErrCorrupt) {
		t.Fatalf("an ordinary read of the over-budget index.json: %v, want ErrCorrupt", err)
	}

	var notes []string
	r := openRepair(t, dir, layout.ReadWrite, &notes)
	idx, err := r.Index(ctx)
	if err != nil || len(idx.Manifests) != total {
		t.Fatalf("read for repair: %d entries, %v", len(idx.Manifests), err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "index.json") || !strings.Contains(notes[0], fmt.Sprint(size)) || !strings.Contains(notes[0], "repair allowance") {
		t.Fatalf("notes %q: want one that names index.json, its size and the allowance", notes)
	}
	rep, err := r.Verify(ctx, layout.VerifyOptions{})
	if err != nil || !strings.Contains(fmt.Sprint(rep.Problems), "over the") {
		t.Fatalf("verify of the over-budget layout: %v, %v; want it to report the budget", rep.Problems, err)
	}

	before := readFile(t, filepath.Join(dir, "index.json"))
	if _, err := r.Tag(ctx, "one-more", a.manifest, layout.ConflictFail); !errors.Is(err, layout.ErrInvalidArgument) {
		t.Fatalf("growing an over-budget index.json under repair: %v, want ErrInvalidArgument", err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, "index.json")), before) {
		t.Fatal("the refused tag changed index.json")
	}
	if _, err := r.Untag(ctx, longTag("t", 0)); err != nil {
		t.Fatalf("untag one (still over budget, but smaller): %v", err)
	}
	var names []string
	for i := 1; i <= 300; i++ {
		names = append(names, longTag("t", i))
	}
	if _, err := r.Untag(ctx, names...); err != nil {
		t.Fatalf("untag down under the budget: %v", err)
	}
	r.Close()

	plain, err := open(t, dir, layout.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Index(ctx); err != nil {
		t.Fatalf("after the repair an ordinary read fails: %v", err)
	}
	if err := plain.Verified(ctx, layout.VerifyOptions{}); err != nil {
		t.Fatalf("verify after the repair: %v", err)
	}
}

// TestRepairAllowanceGC: gc, opened for repair, works on a layout over the
// budget (it must tell what is reachable to delete anything).
func TestRepairAllowanceGC(t *testing.T) {
	dir, a := goodLayout(t)
	w := openRW(t, dir)
	garbage := put(t, w, "application/octet-stream", []byte("unreferenced"))
	w.Close()
	overBudget(t, dir, a, fitting(t, dir, a)+100)
	var notes []string
	g := openRepair(t, dir, layout.Exclusive, &notes)
	res, err := g.GC(ctx, false)
	if err != nil || len(res.Blobs) != 1 || res.Blobs[0].Digest != garbage.Digest {
		t.Fatalf("gc under repair: %+v, %v; want %s deleted", res, err, garbage.Digest)
	}
	if len(notes) == 0 {
		t.Error("gc did not say it used the repair allowance")
	}
}

// TestIndexBudgetCheckedBeforeWrite (I14): a change whose index.json would
// be over the budget is refused before anything is written, with the
// numbers: here one tag more on an index.json just under it.
func TestIndexBudgetCheckedBeforeWrite(t *testing.T) {
	dir, a := goodLayout(t)
	n := fitting(t, dir, a)
	overBudget(t, dir, a, n)
	l := openRW(t, dir)
	before := readFile(t, filepath.Join(dir, "index.json"))
	_, err := l.Tag(ctx, longTag("u", 0), a.manifest, layout.ConflictFail)
	if !errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), fmt.Sprint(strictjson.MaxDocument)) {
		t.Fatalf("a tag that overflows index.json (%d tags fit): %v, want a usage error with the budget", n, err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, "index.json")), before) {
		t.Fatal("index.json changed")
	}
	if _, err := l.Untag(ctx, longTag("t", 0)); err != nil {
		t.Fatalf("untag on a full index.json: %v", err)
	}
}
