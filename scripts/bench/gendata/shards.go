package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// shardName is the Hugging Face style name of shard i (0-based) of n.
func shardName(i, n int) string {
	return fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, n)
}

// writeShards writes count safetensors shards of exactly size bytes each
// into dir: an 8-byte little-endian header length, a JSON header listing
// BF16 tensors (padded with spaces, as safetensors allows), then tensor
// data whose values are the upper 16 bits of float32 samples of
// N(0, 0.02) — what a bf16 checkpoint of a trained model looks like to a
// compressor. With only ≥ 0 just that shard is rewritten; a different
// seed then changes its data bytes but not its header or size.
func writeShards(dir string, count int, size int64, seed uint64, only int) error {
	if only >= count {
		return fmt.Errorf("-only %d: there are %d shards", only, count)
	}
	var files []*os.File
	var jobs []chunkJob
	for i := range count {
		if only >= 0 && i != only {
			continue
		}
		header, err := safetensorsHeader(i, size)
		if err != nil {
			return err
		}
		f, err := createSized(filepath.Join(dir, shardName(i, count)), size)
		if err != nil {
			closeAll(files)
			return err
		}
		files = append(files, f)
		if _, err := f.WriteAt(header, 0); err != nil {
			closeAll(files)
			return fmt.Errorf("write header of %s: %w", f.Name(), err)
		}
		start := int64(len(header))
		jobs = chunksOf(jobs, f, start, size-start, mix(seed, uint64(i)), fillBF16)
	}
	return errors.Join(runChunks(jobs), closeAll(files))
}

// tensorInfo is one entry of a safetensors header.
type tensorInfo struct {
	Dtype       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// safetensorsHeader returns the 8-byte length prefix plus the JSON header
// for shard i, sized so that header + data is exactly size bytes.
func safetensorsHeader(shard int, size int64) ([]byte, error) {
	const reserve = 1 << 16 // header region; the JSON is padded to fill it
	data := (size - 8 - reserve) &^ 1
	hlen := size - 8 - data
	if data <= 0 {
		return nil, fmt.Errorf("shard size %d too small", size)
	}
	// Tensors of a 4096-wide decoder layer, repeated until data is used up.
	shapes := [][2]int64{{4096, 4096}, {1024, 4096}, {1024, 4096}, {4096, 4096}, {14336, 4096}, {14336, 4096}, {4096, 14336}}
	names := []string{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}
	var b strings.Builder
	b.WriteString(`{"__metadata__":{"format":"pt"}`)
	off := int64(0)
	for k := 0; off < data; k++ {
		sh := shapes[k%len(shapes)]
		elems := sh[0] * sh[1]
		shape := []int64{sh[0], sh[1]}
		if rest := (data - off) / 2; elems > rest {
			elems, shape = rest, []int64{rest}
		}
		name := fmt.Sprintf("model.layers.%d.%s.weight", shard*64+k/len(shapes), names[k%len(names)])
		ti, err := json.Marshal(tensorInfo{Dtype: "BF16", Shape: shape, DataOffsets: [2]int64{off, off + elems*2}})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, ",%q:%s", name, ti)
		off += elems * 2
	}
	b.WriteString("}")
	if int64(b.Len()) > hlen {
		return nil, fmt.Errorf("safetensors header of %d bytes exceeds its %d-byte region", b.Len(), hlen)
	}
	out := make([]byte, 8, 8+hlen)
	binary.LittleEndian.PutUint64(out, uint64(hlen))
	out = append(out, b.String()...)
	for int64(len(out)) < 8+hlen {
		out = append(out, ' ')
	}
	return out, nil
}

// fillBF16 fills b with little-endian bf16 values: the upper 16 bits of
// float32 samples of N(0, 0.02). len(b) is even.
func fillBF16(b []byte, seed uint64) {
	t, r := getBF16Table(), newRand(seed)
	i := 0
	for ; i+4 <= len(b); i += 4 {
		v0, v1 := t.sample2(r)
		binary.LittleEndian.PutUint32(b[i:], uint32(v0)|uint32(v1)<<16)
	}
	if i+2 <= len(b) {
		v0, _ := t.sample2(r)
		binary.LittleEndian.PutUint16(b[i:], v0)
	}
}

// fillRandom fills b with uniformly random bytes.
func fillRandom(b []byte, seed uint64) {
	r := newRand(seed)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	for v := r.Uint64(); i < len(b); i, v = i+1, v>>8 {
		b[i] = byte(v)
	}
}
