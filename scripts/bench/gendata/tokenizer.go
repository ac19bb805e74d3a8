package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// modelConfig is a Hugging Face style config.json of a small decoder.
const modelConfig = `{
  "architectures": ["LlamaForCausalLM"],
  "bos_token_id": 128000,
  "eos_token_id": 128001,
  "hidden_act": "silu",
  "hidden_size": 4096,
  "intermediate_size": 14336,
  "max_position_embeddings": 8192,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05,
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "vocab_size": 128256
}
`

// writeTokenizer writes a tokenizer.json in the shape of a Hugging Face
// byte-level BPE tokenizer of about size bytes: about half vocabulary,
// half merges. Written sequentially; it is a few MB.
func writeTokenizer(path string, size int64, seed uint64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	cw := &countWriter{w: bufio.NewWriterSize(f, 1<<16)}
	r := newRand(seed ^ 0x746f6b656e)
	lx := getLexicon()
	fmt.Fprint(cw, `{"version":"1.0","truncation":null,"padding":null,"added_tokens":[`)
	for i := range 256 {
		if i > 0 {
			fmt.Fprint(cw, ",")
		}
		fmt.Fprintf(cw, `{"id":%d,"content":"<|reserved_special_token_%d|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}`, 128000+i, i)
	}
	fmt.Fprint(cw, `],"normalizer":null,"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]},"post_processor":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true},"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":true,"vocab":{`)
	// token makes a byte-level BPE token: a word piece, often with the
	// "Ġ" (space) prefix, made unique by its id where needed.
	seen := map[string]bool{}
	token := func(id int) string {
		w := string(lx.words[r.IntN(len(lx.words))])
		if cut := 1 + r.IntN(len(w)); cut < len(w) && r.IntN(3) == 0 {
			w = w[:cut]
		}
		if r.IntN(2) == 0 {
			w = "Ġ" + w
		}
		if seen[w] {
			w += strconv.Itoa(id)
		}
		seen[w] = true
		return w
	}
	var toks []string
	for id := 0; cw.n < size/2; id++ {
		t := token(id)
		toks = append(toks, t)
		if id > 0 {
			fmt.Fprint(cw, ",")
		}
		fmt.Fprintf(cw, `"%s":%d`, t, id)
	}
	fmt.Fprint(cw, `},"merges":[`)
	for i := 0; cw.n < size-2; i++ {
		if i > 0 {
			fmt.Fprint(cw, ",")
		}
		fmt.Fprintf(cw, `"%s %s"`, toks[r.IntN(len(toks))], toks[r.IntN(len(toks))])
	}
	fmt.Fprint(cw, "]}}\n")
	return errors.Join(cw.err, cw.w.Flush(), f.Close())
}

// countWriter counts bytes written and keeps the first error.
type countWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
