package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// commonWords take the top ranks of the vocabulary, as in English.
var commonWords = []string{
	"the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
	"on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had",
	"they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if",
	"more", "when", "will", "would", "who", "so", "no", "model", "data", "layer", "weights", "training",
	"we", "our", "these", "each", "into", "than", "other", "time", "only", "new", "some", "could",
	"them", "may", "then", "first", "also", "any", "after", "such", "over", "most", "used", "between",
	"results", "method", "using", "where", "performance", "set", "two", "both", "different", "large",
	"however", "while", "input", "output", "value", "function", "number", "system", "based", "given",
}

var syllables = []string{
	"ta", "re", "mon", "ex", "pli", "ca", "tion", "al", "dis", "tri", "bu", "ted", "in", "for", "ma",
	"ver", "sa", "lo", "com", "pu", "ter", "ing", "ly", "ment", "ab", "sor", "pre", "di", "ct", "ive",
	"se", "quen", "ce", "ar", "chi", "tec", "ture", "pa", "ram", "e", "ters", "o", "ti", "mi", "za",
	"gra", "dient", "de", "scent", "net", "work", "lan", "guage", "vi", "sion", "sto", "chas", "tic",
}

// lexicon is the shared vocabulary: words by rank, a Zipf sampling table
// and, per word, a few likely successors (a bigram Markov chain).
type lexicon struct {
	words [][]byte
	fixed [][24]byte  // words again, zero-padded, for fixed-size copies
	zipf  []uint16    // word ids, each repeated ∝ 1/rank
	succ  [][8]uint16 // likely next words
}

var (
	lexOnce sync.Once
	lex     *lexicon
)

// getLexicon builds the vocabulary once, from a fixed seed: every run and
// every chunk see the same words.
func getLexicon() *lexicon {
	lexOnce.Do(func() {
		const nwords = 12000
		r := newRand(7)
		l := &lexicon{}
		seen := map[string]bool{}
		for _, w := range commonWords {
			if !seen[w] {
				seen[w] = true
				l.words = append(l.words, []byte(w))
			}
		}
		for len(l.words) < nwords {
			n := 1 + r.IntN(3) + r.IntN(2)
			w := ""
			for range n {
				w += syllables[r.IntN(len(syllables))]
			}
			if !seen[w] {
				seen[w] = true
				l.words = append(l.words, []byte(w))
			}
		}
		l.fixed = make([][24]byte, len(l.words))
		for k, w := range l.words {
			copy(l.fixed[k][:], w)
		}
		const tableSize = 1 << 16
		h := 0.0
		for k := range l.words {
			h += 1 / float64(k+1)
		}
		for k := range l.words {
			c := max(1, int(tableSize/(h*float64(k+1))))
			for range c {
				l.zipf = append(l.zipf, uint16(k))
			}
		}
		l.succ = make([][8]uint16, len(l.words))
		for k := range l.succ {
			for j := range l.succ[k] {
				l.succ[k][j] = l.zipf[r.IntN(len(l.zipf))]
			}
		}
		lex = l
	})
	return lex
}

// prose generates English-like text: Zipf-distributed words, chained
// through each word's likely successors, in sentences and paragraphs.
type prose struct {
	l    *lexicon
	r    *wyrand
	prev uint16
}

// next picks the next word's id; v supplies 40 random bits.
func (p *prose) next(v uint64) uint16 {
	var id uint16
	if v&7 < 5 { // 5 in 8: a likely successor of the previous word
		id = p.l.succ[p.prev][(v>>3)&7]
	} else {
		id = p.l.zipf[((v>>8)&(1<<32-1))*uint64(len(p.l.zipf))>>32]
	}
	p.prev = id
	return id
}

func (p *prose) word() []byte { return p.l.words[p.next(p.r.Uint64())] }

// sentence appends one sentence of 4..22 words (under 600 bytes); b
// must have 64 bytes of spare capacity past every word it writes.
func (p *prose) sentence(b []byte) []byte {
	n := 4 + p.r.IntN(19)
	for i := range n {
		v := p.r.Uint64()
		id := p.next(v)
		k := len(b)
		b = b[:k+25]
		b[k] = ' '
		*(*[24]byte)(b[k+1:]) = p.l.fixed[id]
		b = b[:k+1+len(p.l.words[id])]
		if i == 0 {
			b[k+1] -= 'a' - 'A'
			copy(b[k:], b[k+1:])
			b = b[:len(b)-1]
		}
		if i > 2 && i < n-2 && (v>>40)%10 == 0 {
			b = append(b, ',')
		}
	}
	return append(b, '.')
}

// fillProse fills b with paragraphs of prose ending in a newline.
func fillProse(b []byte, seed uint64) {
	p := &prose{l: getLexicon(), r: newRand(seed ^ 0x70726f7365)}
	w := b[:0]
	for len(w) < len(b)-1024 {
		for k := 3 + p.r.IntN(6); k > 0; k-- {
			w = p.sentence(w)
			w = append(w, ' ')
		}
		w[len(w)-1] = '\n'
		w = append(w, '\n')
	}
	fillTail(p, w, len(b))
}

var (
	levels   = []string{"INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR"}
	services = []string{"inference-gateway", "model-registry", "tokenizer-svc", "batch-scheduler", "feature-store", "auth-proxy"}
	methods  = []string{"GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"}
	paths    = []string{"/v1/models", "/v1/completions", "/v1/embeddings", "/healthz", "/v1/models/llama-3-8b/generate", "/metrics", "/v1/files", "/v1/batches"}
	statuses = []int{200, 200, 200, 200, 200, 201, 204, 304, 400, 404, 429, 500, 503}
	hexDigit = "0123456789abcdef"
)

// fillLogs fills b with JSON-lines application logs whose messages are
// prose, timestamps advancing from a chunk-specific start.
func fillLogs(b []byte, seed uint64) {
	p := &prose{l: getLexicon(), r: newRand(seed ^ 0x6c6f6773)}
	r := p.r
	ts := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seed%(1<<20)) * time.Minute)
	w := b[:0]
	for len(w) < len(b)-1024 {
		ts = ts.Add(time.Duration(r.IntN(250)) * time.Millisecond)
		w = append(w, `{"ts":"`...)
		w = ts.AppendFormat(w, "2006-01-02T15:04:05.000Z")
		w = append(w, `","level":"`...)
		w = append(w, levels[r.IntN(len(levels))]...)
		w = append(w, `","service":"`...)
		w = append(w, services[r.IntN(len(services))]...)
		w = append(w, `","host":"gpu-node-`...)
		w = strconv.AppendInt(w, int64(r.IntN(48)), 10)
		w = append(w, `","trace_id":"`...)
		v := r.Uint64()
		for range 16 {
			w = append(w, hexDigit[v&15])
			v >>= 4
		}
		w = append(w, `","method":"`...)
		w = append(w, methods[r.IntN(len(methods))]...)
		w = append(w, `","path":"`...)
		w = append(w, paths[r.IntN(len(paths))]...)
		w = append(w, `","status":`...)
		w = strconv.AppendInt(w, int64(statuses[r.IntN(len(statuses))]), 10)
		w = append(w, `,"latency_ms":`...)
		w = strconv.AppendInt(w, int64(r.ExpFloat64()*80), 10)
		w = append(w, `,"bytes":`...)
		w = strconv.AppendInt(w, int64(r.IntN(65536)), 10)
		w = append(w, `,"msg":"`...)
		w = p.sentence(w)
		w = append(w, "\"}\n"...)
	}
	fillTail(p, w, len(b))
}

// fillTail completes w (a prefix of a buffer of length n) with words,
// padding with spaces and a final newline; w never grows past n.
func fillTail(p *prose, w []byte, n int) {
	for {
		word := p.word()
		if len(w)+1+len(word) >= n {
			break
		}
		w = append(w, ' ')
		w = append(w, word...)
	}
	for len(w) < n {
		w = append(w, ' ')
	}
	w[n-1] = '\n'
}

// writeText writes size bytes of text into dir as files of fileSize
// bytes, alternating prose (corpus/part-N.txt) and JSON logs
// (logs/app-N.jsonl).
func writeText(dir string, size, fileSize int64, seed uint64) error {
	var files []*os.File
	var jobs []chunkJob
	for i := int64(0); i*fileSize < size; i++ {
		n := min(fileSize, size-i*fileSize)
		name, fill := filepath.Join(dir, "corpus", fmt.Sprintf("part-%03d.txt", i)), fillProse
		if i%2 == 1 {
			name, fill = filepath.Join(dir, "logs", fmt.Sprintf("app-%03d.jsonl", i)), fillLogs
		}
		f, err := createSized(name, n)
		if err != nil {
			closeAll(files)
			return err
		}
		files = append(files, f)
		jobs = chunksOf(jobs, f, 0, n, mix(seed, uint64(i)), fill)
	}
	getLexicon()
	return errors.Join(runChunks(jobs), closeAll(files))
}
