// Command shafloor is the benchmark's hashing floor: the SHA-256 of each
// file, computed -j files at a time with Go's crypto/sha256, which uses
// the CPU's SHA extensions where it has them (x86 SHA-NI, ARMv8 SHA2) —
// as oci-pack itself does. Debian's sha256sum does not, and is 3–4×
// slower on such CPUs, which made the floor look lower than it is.
//
// Usage:
//
//	shafloor [-j 2] FILE...
//
// It prints "HEX  FILE" per file, in argument order, like sha256sum.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
)

func main() {
	jobs := flag.Int("j", 2, "files hashed at once")
	flag.Parse()
	files := flag.Args()
	sums := make([]string, len(files))
	errs := make([]error, len(files))
	sem := make(chan struct{}, max(1, *jobs))
	var wg sync.WaitGroup
	for i, p := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			sums[i], errs[i] = sum(p)
		}()
	}
	wg.Wait()
	code := 0
	for i, p := range files {
		if errs[i] != nil {
			fmt.Fprintln(os.Stderr, "shafloor:", errs[i])
			code = 1
			continue
		}
		fmt.Printf("%s  %s\n", sums[i], p)
	}
	os.Exit(code)
}

func sum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}
