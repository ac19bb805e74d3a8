// Package packtest generates deterministic, model-like inputs for tests:
// bf16-like weights, text, incompressible bytes, and the fixed input tree
// whose manifest digests testdata/golden/digests.json pins. Everything is
// derived from integer PRNG output (math/rand/v2's PCG, whose sequence is
// specified) and fixed modes, so the bytes are the same on every machine.
package packtest

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// BF16 returns n bytes of little-endian bfloat16 values shaped like trained
// weights: random sign and 7-bit mantissa, and an exponent concentrated
// just below 2^-5 (geometric), so the high byte of each value is
// low-entropy and the low byte nearly uniform — gzip Huffman-only and zstd
// with literal entropy coding reach about 0.7–0.8 on it.
func BF16(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0xbf16))
	out := make([]byte, n+1)
	for i := 0; i < n; i += 2 {
		x := r.Uint64()
		exp := uint16(122 - bits.TrailingZeros64(x|1<<20))
		v := uint16(x>>63)<<15 | exp<<7 | uint16(x>>40)&0x7f
		binary.LittleEndian.PutUint16(out[i:], v)
	}
	return out[:n]
}

var words = strings.Fields(`the model weights tensor layer attention head token vocab merge
config hidden size intermediate rope theta norm epsilon bias query key value output
embedding position dropout activation silu gelu batch sequence length cache float
bfloat16 shard index safetensors license readme apache generation temperature top`)

// Text returns n bytes of space- and newline-separated words.
func Text(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x7e47))
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(words[r.IntN(len(words))])
		if r.IntN(12) == 0 {
			sb.WriteByte('\n')
		} else {
			sb.WriteByte(' ')
		}
	}
	return []byte(sb.String()[:n])
}

// Random returns n incompressible bytes.
func Random(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0xa11))
	out := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(out[i:], r.Uint64())
	}
	return out[:n]
}

// LongName is a file name in the golden tree too long for a ustar header,
// so the tar needs PAX records.
var LongName = strings.Repeat("long-file-name-", 8) + "end.txt"

// TreeArgs are the PATH arguments, relative to the tree's directory and
// in order, that pack the golden tree: two files, a directory, a file.
var TreeArgs = []string{"config.json", "model.safetensors", "tokenizer", "README.md"}

// WriteTree writes the golden input tree into dir (which must exist):
//
//	config.json            JSON text
//	model.safetensors      5 MiB + 123 bytes of BF16 (crosses pgzip's 1 MiB
//	                       blocks and zstd's 4 MiB window)
//	README.md              text
//	tokenizer/             0755, with: vocab.txt (64 KiB text), a.txt and
//	                       a/b ("a.txt" sorts before "a/b"), run.sh (0755),
//	                       nested/deeper/merges.txt, latest -> vocab.txt
//	                       (symlink), empty/ (empty directory) and LongName
//
// Files are 0644 unless noted, directories 0755, set explicitly so the
// umask does not leak into tar headers.
func WriteTree(dir string) error {
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"config.json", []byte(`{"architectures":["TestForCausalLM"],"hidden_size":64,"num_layers":2,"torch_dtype":"bfloat16"}` + "\n"), 0o644},
		{"model.safetensors", BF16(1, 5<<20+123), 0o644},
		{"README.md", append([]byte("# Test model\n\n"), Text(2, 3000)...), 0o644},
		{"tokenizer/vocab.txt", Text(3, 64<<10), 0o644},
		{"tokenizer/a.txt", []byte("a.txt\n"), 0o644},
		{"tokenizer/a/b", []byte("a/b\n"), 0o644},
		{"tokenizer/run.sh", []byte("#!/bin/sh\necho tokenize\n"), 0o755},
		{"tokenizer/nested/deeper/merges.txt", Text(4, 5000), 0o644},
		{"tokenizer/" + LongName, []byte("long\n"), 0o644},
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.mode); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "tokenizer", "empty"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink("vocab.txt", filepath.Join(dir, "tokenizer", "latest")); err != nil {
		return err
	}
	for _, d := range []string{"tokenizer", "tokenizer/a", "tokenizer/nested", "tokenizer/nested/deeper", "tokenizer/empty"} {
		if err := os.Chmod(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("chmod %s: %w", d, err)
		}
	}
	return nil
}
