package strictjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oci-pack/oci-pack/layout/strictjson"
)

var accepted = []string{
	`{}`, `[]`, `0`, `-0.5e+10`, `"s"`, `null`, `true`, `false`,
	` {"a": [1, 2, {"b": null}], "c": "d"} ` + "\n",
	`{"emoji":"\ud83d\ude00","esc":"\" \\ \/ \b \f \n \r \t \u00e9"}`,
	`{"a":{"a":{"a":1}}}`, // same key at different levels
	`{"size":1,"sizes":2}`,
	strings.Repeat("[", strictjson.MaxDepth) + strings.Repeat("]", strictjson.MaxDepth),
}

var rejected = []struct{ doc, want string }{
	{``, "offset 0 (empty document)"},
	{`   `, "unexpected end"},
	{`{"a":1,"a":2}`, `duplicate key "a" at offset 7`},
	{`{"digest":"x","Digest":"y"}`, `duplicate key "Digest" (also "digest"`},
	{`{"size":1,"ſize":2}`, "differing only in case"},      // U+017F folds to s
	{`{"kind":1,"\u212aind":2}`, "differing only in case"}, // Kelvin sign folds to k
	{`{"a":1}{"a":2}`, "trailing data at offset 7"},
	{`{"a":1} x`, "trailing data at offset 8"},
	{"\xef\xbb\xbf{}", "byte-order mark"},
	{`{"a":"\ud800"}`, `lone surrogate \ud800`},
	{`{"a":"\udc00\ud800"}`, "lone surrogate"},
	{`{"a":"\ud800\u0041"}`, "lone surrogate"},
	{"{\"a\":\"\xff\"}", "invalid UTF-8 at offset 6"},
	{"{\"a\":\"\x01\"}", "control character"},
	{`{"a":"\x"}`, `invalid escape \x`},
	{`{"a":"\u12"}`, `invalid \u escape`},
	{`{"a":01}`, "invalid character"},
	{`{"a":-}`, "invalid number"},
	{`{"a":1.}`, "invalid number"},
	{`{"a":1e}`, "invalid number"},
	{`{"a":` + strings.Repeat("1", 65) + `}`, "number too long"},
	{`{"a":tru}`, "invalid literal"},
	{`{"a" 1}`, "expected ':'"},
	{`{a:1}`, "looking for object key"},
	{`{"a":1,}`, "looking for object key"},
	{`[1,]`, "looking for a value"},
	{`[1 2]`, "after array element"},
	{`{"a":1`, "unexpected end"},
	{`{"schemaVersion":2,"manifests":[`, "unexpected end of JSON input at offset 32"},
	{strings.Repeat("[", strictjson.MaxDepth+1) + strings.Repeat("]", strictjson.MaxDepth+1), "nesting deeper than 64"},
	{strings.Repeat(`{"a":`, 1000), "nesting deeper"},
}

func TestCheck(t *testing.T) {
	for _, doc := range accepted {
		if err := strictjson.Check([]byte(doc)); err != nil {
			t.Errorf("Check(%q) = %v, want nil", doc, err)
		}
	}
	for _, c := range rejected {
		err := strictjson.Check([]byte(c.doc))
		if !errors.Is(err, strictjson.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%.60q) = %v, want ErrInvalid containing %q", c.doc, err, c.want)
		}
	}
}

func TestUnmarshal(t *testing.T) {
	var v struct {
		Size int64 `json:"size"`
	}
	if err := strictjson.Unmarshal([]byte(`{"size":42}`), &v); err != nil || v.Size != 42 {
		t.Fatalf("Unmarshal = %v, %+v", err, v)
	}
	err := strictjson.Unmarshal([]byte(`{"size":"big"}`), &v)
	if !errors.Is(err, strictjson.ErrInvalid) || !strings.Contains(err.Error(), `field "size"`) || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("type mismatch = %v, want ErrInvalid naming the field and offset", err)
	}
	if err := strictjson.Unmarshal([]byte(`{"size":1,"SIZE":2}`), &v); !errors.Is(err, strictjson.ErrInvalid) {
		t.Fatalf("case-variant keys decoded: %v (encoding/json alone would take the last)", err)
	}
}

func TestReadAll(t *testing.T) {
	b, err := strictjson.ReadAll(strings.NewReader("12345"), 5)
	if err != nil || string(b) != "12345" {
		t.Fatalf("ReadAll at the limit = %q, %v", b, err)
	}
	if _, err := strictjson.ReadAll(strings.NewReader("123456"), 5); !errors.Is(err, strictjson.ErrTooLarge) {
		t.Fatalf("ReadAll past the limit = %v, want ErrTooLarge", err)
	}
	// An endless reader stops at the budget instead of filling memory.
	if _, err := strictjson.ReadAll(io.MultiReader(strings.NewReader("["), endless{}), 0); !errors.Is(err, strictjson.ErrTooLarge) {
		t.Fatalf("ReadAll of an endless reader = %v, want ErrTooLarge", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// FuzzCheck: Check never panics, errors carry an offset, and whatever it
// accepts is valid UTF-8 JSON that encoding/json decodes, with no object
// holding two keys equal under case folding.
func FuzzCheck(f *testing.F) {
	for _, doc := range accepted {
		f.Add([]byte(doc))
	}
	for _, c := range rejected {
		f.Add([]byte(c.doc))
	}
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := strictjson.Check(b)
		if err != nil {
			if !errors.Is(err, strictjson.ErrInvalid) || !strings.Contains(err.Error(), "offset") {
				t.Fatalf("Check(%q) = %v: not ErrInvalid with an offset", b, err)
			}
			return
		}
		if !utf8.Valid(b) || bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) || !json.Valid(b) {
			t.Fatalf("Check accepted %q, which is not valid UTF-8 JSON without a BOM", b)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("Check accepted %q, which encoding/json rejects: %v", b, err)
		}
		if k := foldedDuplicate(t, b); k != "" {
			t.Fatalf("Check accepted %q with duplicate key %q", b, k)
		}
	})
}

// foldedDuplicate returns a key that appears twice (under case folding) in
// one object of b, or "".
func foldedDuplicate(t *testing.T, b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj    bool
		keys   []string
		expect bool // next string token in this object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return ""
		}
		if err != nil {
			t.Fatalf("token stream of accepted %q: %v", b, err)
		}
		top := func() *frame {
			if len(stack) == 0 {
				return nil
			}
			return stack[len(stack)-1]
		}
		if k, ok := tok.(string); ok && top() != nil && top().obj && top().expect {
			f := top()
			for _, prev := range f.keys {
				if strings.EqualFold(prev, k) {
					return k
				}
			}
			f.keys = append(f.keys, k)
			f.expect = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if f := top(); f != nil && f.obj {
			f.expect = true // a value ended: a key comes next
		}
	}
}
