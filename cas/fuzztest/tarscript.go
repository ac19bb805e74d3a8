package fuzztest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// MaxScriptEntries bounds the entries a TarScript builds.
const MaxScriptEntries = 64

// TarScript builds an uncompressed tar from a line notation that
// mutates well: a fuzzer changing a name, a type or a body still yields a
// well-formed archive, so the code under test gets past tar's header
// checksums. One entry per line:
//
//	TYPE[MODE]|NAME|LINK|BODY
//
// TYPE is one byte, used as the tar type flag as is ('0' file, '5'
// directory, '2' symlink, '1' hardlink, '3' '4' devices, '6' FIFO, 'g' PAX
// global header, …). MODE is optional octal permission digits (default
// 0644). BODY is the rest of the line: the data of a type that carries
// data (its size is BODY's length); for a PAX global header, its
// "comment" record. In NAME, LINK and BODY, {hN} and {sN}
// stand for the sha256 hex and the size of the body of entry N (counting
// lines from 0; earlier entries only), and in NAME {h} stands for the
// entry's own body's sha256 hex — so blobs can be named by their digest
// and documents can point at them. Empty lines are skipped.
//
// It fails on a line without three '|', on more than MaxScriptEntries
// entries, and where archive/tar refuses a header.
func TarScript(script string) ([]byte, error) {
	var bodies [][]byte
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, line := range strings.Split(script, "\n") {
		if line == "" {
			continue
		}
		if len(bodies) == MaxScriptEntries {
			return nil, fmt.Errorf("more than %d entries", MaxScriptEntries)
		}
		f := strings.SplitN(line, "|", 4)
		if len(f) != 4 || len(f[0]) == 0 {
			return nil, fmt.Errorf("line %q: want TYPE[MODE]|NAME|LINK|BODY", line)
		}
		mode := int64(0o644)
		if m := f[0][1:]; m != "" {
			v, err := strconv.ParseInt(m, 8, 32)
			if err != nil {
				return nil, fmt.Errorf("line %q: mode: %v", line, err)
			}
			mode = v
		}
		body := []byte(expand(f[3], bodies, ""))
		self := sum(body)
		h := &tar.Header{Typeflag: f[0][0], Name: expand(f[1], bodies, self), Linkname: expand(f[2], bodies, ""), Mode: mode}
		switch {
		case h.Typeflag == tar.TypeXGlobalHeader: // archive/tar allows a name and records only
			h = &tar.Header{Typeflag: h.Typeflag, Name: h.Name}
			if len(body) > 0 {
				h.PAXRecords = map[string]string{"comment": string(body)}
			}
		case !headerOnly(h.Typeflag):
			h.Size = int64(len(body))
		}
		bodies = append(bodies, body)
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("entry %q: %v", h.Name, err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(body); err != nil {
				return nil, fmt.Errorf("entry %q: %v", h.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// headerOnly reports the types archive/tar reads no data for.
func headerOnly(t byte) bool {
	switch t {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
		return true
	}
	return false
}

// expand replaces {hN}, {sN} (N < len(bodies)) and, if self is not "",
// {h} in s.
func expand(s string, bodies [][]byte, self string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	if self != "" {
		s = strings.ReplaceAll(s, "{h}", self)
	}
	for i, b := range bodies {
		s = strings.ReplaceAll(s, fmt.Sprintf("{h%d}", i), sum(b))
		s = strings.ReplaceAll(s, fmt.Sprintf("{s%d}", i), strconv.Itoa(len(b)))
	}
	return s
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
