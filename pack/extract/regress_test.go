//go:build !windows

package extract

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cas/fuzztest"
)

// TestSlowFuzzRegressions runs FuzzExtractEntries inputs that are kept out
// of its corpus directory (testdata/regress/ holds them instead) because
// each one takes a second or more: a file 1,000 directories deep, made
// through os.Root one level at a time. In the corpus, `go test -fuzz`
// would re-run them under coverage instrumentation before every fuzzing
// session, long enough for its worker to be declared hung.
func TestSlowFuzzRegressions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "regress", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no regression inputs in testdata/regress (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			script, mode := readEntriesInput(t, file)
			b, err := fuzztest.TarScript(script)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			checkExtract(t, b, mode)
		})
	}
}

// readEntriesInput reads a `go test fuzz v1` file holding FuzzExtractEntries'
// two values: string("…") and byte('…').
func readEntriesInput(t *testing.T, file string) (string, byte) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a two-value go test fuzz v1 file", file)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
	if err != nil {
		t.Fatalf("%s: string value: %v", file, err)
	}
	c, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[2], "byte("), ")"))
	if err != nil || len(c) != 1 {
		t.Fatalf("%s: byte value %q: %v", file, lines[2], err)
	}
	return s, c[0]
}
