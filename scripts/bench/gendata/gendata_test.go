package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestShardsAreValidSafetensors parses a generated shard's header and
// checks the tensors tile the data region exactly and the values have the
// intended spread.
func TestShardsAreValidSafetensors(t *testing.T) {
	dir := t.TempDir()
	const size = 3<<20 + 6
	if err := writeShards(dir, 2, size, 5, -1); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, shardName(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != size {
		t.Fatalf("shard is %d bytes, want %d", len(b), size)
	}
	hlen := int(binary.LittleEndian.Uint64(b))
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+hlen], &hdr); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	data := b[8+hlen:]
	var total int64
	for name, raw := range hdr {
		if name == "__metadata__" {
			continue
		}
		var ti tensorInfo
		if err := json.Unmarshal(raw, &ti); err != nil {
			t.Fatalf("tensor %s: %v", name, err)
		}
		elems := int64(1)
		for _, d := range ti.Shape {
			elems *= d
		}
		if ti.Dtype != "BF16" || ti.DataOffsets[1]-ti.DataOffsets[0] != elems*2 {
			t.Fatalf("tensor %s: %+v inconsistent", name, ti)
		}
		total += elems * 2
	}
	if total != int64(len(data)) {
		t.Fatalf("tensors cover %d bytes, data region is %d", total, len(data))
	}
	var sum, sq float64
	n := len(data) / 2
	for i := 0; i < len(data); i += 2 {
		v := float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(data[i:])) << 16))
		sum += v
		sq += v * v
	}
	mean, sd := sum/float64(n), math.Sqrt(sq/float64(n))
	if math.Abs(mean) > 1e-3 || sd < 0.0195 || sd > 0.0205 {
		t.Fatalf("values have mean %g, sd %g; want about N(0, 0.02)", mean, sd)
	}
}

// TestOnlyRewritesOneShard checks -only with another seed changes that
// shard's data, keeps its header and size, and leaves the others alone.
func TestOnlyRewritesOneShard(t *testing.T) {
	dir := t.TempDir()
	const size = 1 << 20
	if err := writeShards(dir, 2, size, 1, -1); err != nil {
		t.Fatal(err)
	}
	a0, _ := os.ReadFile(filepath.Join(dir, shardName(0, 2)))
	a1, _ := os.ReadFile(filepath.Join(dir, shardName(1, 2)))
	if err := writeShards(dir, 2, size, 2, 1); err != nil {
		t.Fatal(err)
	}
	b0, _ := os.ReadFile(filepath.Join(dir, shardName(0, 2)))
	b1, _ := os.ReadFile(filepath.Join(dir, shardName(1, 2)))
	if !bytes.Equal(a0, b0) {
		t.Fatal("shard 0 changed")
	}
	if len(b1) != size || bytes.Equal(a1, b1) {
		t.Fatalf("shard 1: %d bytes, changed=%v; want %d bytes, changed", len(b1), !bytes.Equal(a1, b1), size)
	}
	hl := 8 + int(binary.LittleEndian.Uint64(a1))
	if !bytes.Equal(a1[:hl], b1[:hl]) {
		t.Fatal("shard 1 header changed")
	}
	if err := writeShards(dir, 2, size, 1, 1); err != nil {
		t.Fatal(err)
	}
	c1, _ := os.ReadFile(filepath.Join(dir, shardName(1, 2)))
	if !bytes.Equal(a1, c1) {
		t.Fatal("rewriting shard 1 with the first seed did not restore it")
	}
}

// TestTextIsDeterministicAndCompressible checks two generations are
// identical, the logs are JSON lines, the text is plain ASCII, and zstd
// level 3 compresses it to 10–30%, like real prose and logs.
func TestTextIsDeterministicAndCompressible(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	for _, d := range []string{d1, d2} {
		if err := writeText(d, 2*(chunkSize+50)+10, chunkSize+50, 9); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"corpus/part-000.txt", "logs/app-001.jsonl", "corpus/part-002.txt"} {
		a, err := os.ReadFile(filepath.Join(d1, name))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(d2, name))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs between runs", name)
		}
		if a[len(a)-1] != '\n' {
			t.Fatalf("%s does not end in a newline", name)
		}
		for i, c := range a {
			if c != '\n' && (c < ' ' || c > '~') {
				t.Fatalf("%s: byte %d is %#x, not printable ASCII", name, i, c)
			}
		}
	}
	var all []byte
	for _, name := range []string{"corpus/part-000.txt", "logs/app-001.jsonl"} {
		b, _ := os.ReadFile(filepath.Join(d1, name))
		all = append(all, b...)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		t.Fatal(err)
	}
	if r := float64(len(enc.EncodeAll(all, nil))) / float64(len(all)); r < 0.1 || r > 0.3 {
		t.Fatalf("zstd ratio of the text is %.3f, want 0.1–0.3", r)
	}
	logs, _ := os.ReadFile(filepath.Join(d1, "logs/app-001.jsonl"))
	lines := bytes.Split(logs, []byte("\n"))
	for i, ln := range lines[:len(lines)-1] { // chunk tails: a line of prose led by a space
		if !json.Valid(ln) && !bytes.HasPrefix(ln, []byte(" ")) {
			t.Fatalf("log line %d is not JSON: %.80q", i, ln)
		}
	}
}

// TestTokenizerIsJSON checks the tokenizer file parses and is near size.
func TestTokenizerIsJSON(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := writeTokenizer(p, 256<<10, 3); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	var v struct {
		Model struct {
			Vocab  map[string]int `json:"vocab"`
			Merges []string       `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("tokenizer.json: %v", err)
	}
	if len(b) < 256<<10 || len(b) > 260<<10 || len(v.Model.Vocab) < 1000 || len(v.Model.Merges) < 1000 {
		t.Fatalf("tokenizer: %d bytes, %d vocab, %d merges", len(b), len(v.Model.Vocab), len(v.Model.Merges))
	}
}

func BenchmarkFillBF16(b *testing.B)   { benchFill(b, fillBF16) }
func BenchmarkFillProse(b *testing.B)  { benchFill(b, fillProse) }
func BenchmarkFillLogs(b *testing.B)   { benchFill(b, fillLogs) }
func BenchmarkFillRandom(b *testing.B) { benchFill(b, fillRandom) }

func benchFill(b *testing.B, fill func([]byte, uint64)) {
	buf := make([]byte, chunkSize)
	b.SetBytes(chunkSize)
	for i := 0; b.Loop(); i++ {
		fill(buf, uint64(i))
	}
}
