// Package fuzztest holds what oci-pack's native fuzz targets share: seed
// corpora written in the `go test fuzz v1` format, a hang watchdog, and
// TarScript, a line notation for tar archives that the fuzzer can mutate
// without breaking tar's header checksums.
//
// Targets run with `make fuzz` (FUZZTIME each) and `make fuzz-short`
// (20 s each, part of `make test`); scripts/fuzz.sh lists them. A plain
// `go test` runs every seed and every checked-in corpus file once.
package fuzztest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// WriteSeedsEnv, set to "1", makes Seed also write each seed into the
// package's testdata/fuzz/<target>/ (the checked-in corpus):
//
//	OCI_PACK_WRITE_FUZZ_SEEDS=1 go test -run '^FuzzX$' ./pkg
const WriteSeedsEnv = "OCI_PACK_WRITE_FUZZ_SEEDS"

// HangLimit is how long one fuzz input may run before Watchdog calls it a
// hang. Inputs are small and bounded; a healthy run takes milliseconds.
const HangLimit = 2 * time.Minute

// Seed puts vals in f's seed corpus as testdata/fuzz/<f.Name()>/seed-<name>.
// When that file is checked in, go test reads it from there and Seed adds
// nothing (each seed runs once); otherwise Seed adds vals with f.Add. With
// WriteSeedsEnv set it (re)writes the file.
func Seed(f *testing.F, name string, vals ...any) {
	f.Helper()
	file := filepath.Join("testdata", "fuzz", f.Name(), "seed-"+fileName(name))
	if os.Getenv(WriteSeedsEnv) != "1" {
		if _, err := os.Stat(file); err != nil {
			f.Add(vals...)
		}
		return
	}
	b, err := CorpusFile(vals...)
	if err != nil {
		f.Fatalf("seed %s: %v", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		f.Fatal(err)
	}
	f.Add(vals...)
}

// CorpusFile encodes vals as a `go test fuzz v1` corpus file, as
// `go test -fuzz` writes them.
func CorpusFile(vals ...any) ([]byte, error) {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case int64, bool:
			fmt.Fprintf(&b, "%T(%v)\n", v, v)
		default:
			return nil, fmt.Errorf("unsupported corpus value type %T", v)
		}
	}
	return []byte(b.String()), nil
}

// fileName makes a seed name safe as a file name.
func fileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name)
}

// Watchdog crashes the fuzzing process, with every goroutine's stack, if
// the caller has not called the returned stop function within HangLimit:
// `go test -fuzz` then records the input as a failure (a hang), where it
// would otherwise wait forever.
func Watchdog(what string) (stop func()) {
	timer := time.AfterFunc(HangLimit, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("%s did not return within %v on this input: hang", what, HangLimit))
	})
	return func() { timer.Stop() }
}
