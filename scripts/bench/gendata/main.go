// Command gendata writes the benchmark's inputs deterministically: the
// same arguments give byte-identical files on every run and machine,
// whatever the number of CPUs. Content is produced in fixed chunks, each
// from its own seeded generator, by one worker per CPU, and written in
// place with pwrite, so generation runs at several hundred MB/s with
// memory bounded by workers × chunk size.
//
// Usage:
//
//	gendata shards    -dir D -count N -size SIZE [-seed S] [-only I]
//	gendata text      -dir D -size SIZE [-file-size SIZE] [-seed S]
//	gendata random    -file F -size SIZE [-seed S]
//	gendata tokenizer -file F -size SIZE [-seed S]
//	gendata config    -file F
//
// SIZE accepts a plain byte count or a KiB/MiB/GiB (or K/M/G) suffix.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: gendata shards|text|random|tokenizer|config [flags]")
	}
	fs := flag.NewFlagSet("gendata "+args[0], flag.ContinueOnError)
	dir := fs.String("dir", "", "output directory (shards, text)")
	file := fs.String("file", "", "output file (random, tokenizer, config)")
	sizeS := fs.String("size", "0", "bytes per shard (shards) or in total (text, random, tokenizer)")
	fileSizeS := fs.String("file-size", "64MiB", "bytes per text file")
	count := fs.Int("count", 1, "number of shards")
	only := fs.Int("only", -1, "rewrite only this shard index (with -seed, to change one shard)")
	seed := fs.Uint64("seed", 1, "generator seed")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	size, err := parseSize(*sizeS)
	if err != nil {
		return err
	}
	fileSize, err := parseSize(*fileSizeS)
	if err != nil {
		return err
	}
	switch args[0] {
	case "shards":
		if *dir == "" || *count < 1 || size < 1<<16 {
			return fmt.Errorf("shards needs -dir, -count ≥ 1 and -size ≥ 64KiB")
		}
		return writeShards(*dir, *count, size, *seed, *only)
	case "text":
		if *dir == "" || size <= 0 || fileSize < chunkSize {
			return fmt.Errorf("text needs -dir, -size > 0 and -file-size ≥ %d", chunkSize)
		}
		return writeText(*dir, size, fileSize, *seed)
	case "random":
		if *file == "" || size <= 0 {
			return fmt.Errorf("random needs -file and -size > 0")
		}
		return writeRandom(*file, size, *seed)
	case "tokenizer":
		if *file == "" || size <= 0 {
			return fmt.Errorf("tokenizer needs -file and -size > 0")
		}
		return writeTokenizer(*file, size, *seed)
	case "config":
		if *file == "" {
			return fmt.Errorf("config needs -file")
		}
		return os.WriteFile(*file, []byte(modelConfig), 0o644)
	}
	return fmt.Errorf("unknown kind %q", args[0])
}

// parseSize reads "123", "4GiB", "256MiB", "64K", …
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(n * float64(mult)), nil
}

// chunkSize is the unit of parallel generation; every chunk's content
// depends only on (seed, file index, chunk index).
const chunkSize = 4 << 20

// chunkJob fills buf with the content at byte offset off of a file.
type chunkJob struct {
	f    *os.File
	off  int64
	n    int
	seed uint64
	fill func(buf []byte, seed uint64)
}

// runChunks runs jobs on one worker per CPU, each with its own buffer.
func runChunks(jobs []chunkJob) error {
	ch := make(chan chunkJob)
	errs := make(chan error, runtime.NumCPU())
	for range runtime.NumCPU() {
		go func() {
			buf := make([]byte, chunkSize)
			var first error
			for j := range ch {
				if first != nil {
					continue
				}
				b := buf[:j.n]
				j.fill(b, j.seed)
				if _, err := j.f.WriteAt(b, j.off); err != nil {
					first = fmt.Errorf("write %s at %d: %w", j.f.Name(), j.off, err)
				}
			}
			errs <- first
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	var first error
	for range runtime.NumCPU() {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// createSized creates (or truncates) path to exactly size bytes.
func createSized(path string, size int64) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, fmt.Errorf("truncate %s to %d: %w", path, size, err)
	}
	return f, nil
}

// chunksOf appends the jobs covering [start, start+n) of f.
func chunksOf(jobs []chunkJob, f *os.File, start, n int64, seed uint64, fill func([]byte, uint64)) []chunkJob {
	for i := int64(0); i*chunkSize < n; i++ {
		m := min(chunkSize, n-i*chunkSize)
		jobs = append(jobs, chunkJob{f: f, off: start + i*chunkSize, n: int(m), seed: mix(seed, uint64(i)), fill: fill})
	}
	return jobs
}

// closeAll closes files, returning the first error.
func closeAll(files []*os.File) error {
	var first error
	for _, f := range files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// mix derives a well-spread 64-bit seed from two values (splitmix64).
func mix(a, b uint64) uint64 {
	z := a*0x9e3779b97f4a7c15 + b + 0x632be59bd9b4e019
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// writeRandom writes size uniformly random bytes.
func writeRandom(path string, size int64, seed uint64) error {
	f, err := createSized(path, size)
	if err != nil {
		return err
	}
	jobs := chunksOf(nil, f, 0, size, mix(seed, 0x72616e64), fillRandom)
	return errors.Join(runChunks(jobs), f.Close())
}
