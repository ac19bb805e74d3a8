package pack

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// LoadAnnotationFile reads a file in oras's annotation-file shape,
// {"$manifest": {k: v}, "$config": {k: v}, "<title>": {k: v}}, for
// Options.FileAnnotations. It is strict JSON of at most 8 MiB.
func LoadAnnotationFile(p string) (map[string]map[string]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("annotation file: %w", err)
	}
	defer f.Close()
	b, err := strictjson.ReadAll(f, strictjson.MaxDocument)
	if err != nil {
		return nil, fmt.Errorf("annotation file %s: %w", p, err)
	}
	var out map[string]map[string]string
	if err := strictjson.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%w: annotation file %s: %v", layout.ErrInvalidArgument, p, err)
	}
	return out, nil
}

// mergeAnnotations merges maps left to right (later wins); nil if empty.
func mergeAnnotations(ms ...map[string]string) map[string]string {
	var out map[string]string
	for _, m := range ms {
		for k, v := range m {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

func joinComma(s []string) string { return strings.Join(s, ",") }

func bytesReader(s string) io.Reader { return bytes.NewReader([]byte(s)) }
