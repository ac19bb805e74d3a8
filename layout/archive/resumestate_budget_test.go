package archive

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteStateBudget: an import's resume state larger than readState
// takes is never written (RELIABILITY I14): the checkpoint fails (the
// import goes on, not resumable) instead of writing a file every
// checkpoint that no re-run can read.
func TestWriteStateBudget(t *testing.T) {
	l := openLayout(t, filepath.Join(t.TempDir(), "L"))
	t.Cleanup(func() { l.Close() })
	st := &importState{Format: resumeFormat, Archive: "/a.tar"}
	name := strings.Repeat("n", 4000)
	for range maxResumeState/4000 + 1 {
		st.Seen = append(st.Seen, name)
	}
	if err := writeState(l, "import-x.json", st); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Fatalf("an over-budget state: %v", err)
	}
	if _, err := readState(l, "import-x.json"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("readState: %v", err)
	}
	if st, _ := readState(l, "import-x.json"); st != nil {
		t.Error("the over-budget state was written")
	}
}
