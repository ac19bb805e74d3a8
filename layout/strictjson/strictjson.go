// Package strictjson decodes untrusted JSON documents (index.json,
// manifests, configs, receipts) under the rules of RELIABILITY I8 and I10:
// a size budget, valid UTF-8 with no lone surrogate escapes, no byte-order
// mark, no duplicate object keys — not even ones differing only in case,
// which encoding/json would fold into one field — no trailing data, and a
// nesting limit. It then unmarshals with encoding/json.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDocument is the default budget for one JSON document: 8 MiB.
const MaxDocument = 8 << 20

// MaxDepth bounds nesting of objects and arrays.
const MaxDepth = 64

// ErrInvalid is wrapped by every rejection this package makes.
var ErrInvalid = errors.New("invalid JSON")

// ErrTooLarge is wrapped when a document exceeds its budget.
var ErrTooLarge = errors.New("document too large")

// ReadAll reads r up to max bytes; one byte more is ErrTooLarge. max <= 0
// means MaxDocument.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = MaxDocument
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("exceeds %d byte limit: %w", max, ErrTooLarge)
	}
	return b, nil
}

// Unmarshal checks b strictly and then decodes it into v. Errors wrap
// ErrInvalid and give the byte offset of the problem.
//
// Keys must name v's struct fields exactly: a key that matches a field
// only when case is ignored ("Manifests", "Digest"), which encoding/json
// would accept, is an error.
func Unmarshal(b []byte, v any) error {
	if err := check(b, target(reflect.TypeOf(v))); err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("%w: %v at offset %d", ErrInvalid, se, se.Offset)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%w: field %q: cannot use %s at offset %d as %s", ErrInvalid, te.Field, te.Value, te.Offset, te.Type)
		}
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// Check validates b without decoding it into anything.
func Check(b []byte) error { return check(b, nil) }

// check validates b; t, if not nil, is the type it will decode into, whose
// field names keys must match exactly.
func check(b []byte, t reflect.Type) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: unexpected end of JSON input at offset 0 (empty document)", ErrInvalid)
	}
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		return fmt.Errorf("%w: byte-order mark at offset 0", ErrInvalid)
	}
	if !utf8.Valid(b) {
		off := 0
		for off < len(b) {
			r, n := utf8.DecodeRune(b[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return fmt.Errorf("%w: invalid UTF-8 at offset %d", ErrInvalid, off)
	}
	s := &scanner{b: b}
	s.skipSpace()
	if err := s.value(0, t); err != nil {
		return err
	}
	s.skipSpace()
	if s.i != len(b) {
		return fmt.Errorf("%w: trailing data at offset %d", ErrInvalid, s.i)
	}
	return nil
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrInvalid, fmt.Sprintf(format, args...), s.i)
}

func (s *scanner) eof() error {
	return fmt.Errorf("%w: unexpected end of JSON input at offset %d", ErrInvalid, s.i)
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int, t reflect.Type) error {
	if s.i >= len(s.b) {
		return s.eof()
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth+1, t)
	case c == '[':
		return s.array(depth+1, element(t))
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	default:
		return s.errf("invalid character %q looking for a value", c)
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) {
		return s.eof()
	}
	if string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.errf("invalid literal")
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) number() error {
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		if s.i >= len(s.b) {
			return s.eof()
		}
		return s.errf("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.errf("invalid number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.errf("invalid number")
		}
	}
	if s.i-start > 64 {
		s.i = start
		return s.errf("number too long")
	}
	// encoding/json fails on a number beyond float64 ("1e700") when it
	// decodes into one; refuse it here, with an offset, so that what Check
	// accepts always decodes.
	if _, err := strconv.ParseFloat(string(s.b[start:s.i]), 64); err != nil {
		num := string(s.b[start:s.i])
		s.i = start
		return s.errf("number %s out of range", num)
	}
	return nil
}

// str scans a string starting at the opening quote and returns its decoded
// value. Lone UTF-16 surrogate escapes are rejected: encoding/json would
// turn them into U+FFFD, so two different names could decode equal.
func (s *scanner) str() (string, error) {
	s.i++ // opening quote
	// Fast path: most strings hold no escape; they need no decoding.
	for j := s.i; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			v := string(s.b[s.i:j])
			s.i = j + 1
			return v, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	var sb strings.Builder
	for {
		if s.i >= len(s.b) {
			return "", s.eof()
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return sb.String(), nil
		case c < 0x20:
			return "", s.errf("control character %#x in string", c)
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return "", s.eof()
			}
			e := s.b[s.i+1]
			switch e {
			case '"', '\\', '/':
				sb.WriteByte(e)
				s.i += 2
			case 'b':
				sb.WriteByte('\b')
				s.i += 2
			case 'f':
				sb.WriteByte('\f')
				s.i += 2
			case 'n':
				sb.WriteByte('\n')
				s.i += 2
			case 'r':
				sb.WriteByte('\r')
				s.i += 2
			case 't':
				sb.WriteByte('\t')
				s.i += 2
			case 'u':
				r, err := s.hex4(s.i + 2)
				if err != nil {
					return "", err
				}
				s.i += 6
				if utf16.IsSurrogate(r) {
					if r >= 0xdc00 || s.i+6 > len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
						return "", s.errf("lone surrogate \\u%04x", r)
					}
					r2, err := s.hex4(s.i + 2)
					if err != nil {
						return "", err
					}
					pair := utf16.DecodeRune(r, r2)
					if pair == utf8.RuneError {
						return "", s.errf("lone surrogate \\u%04x", r)
					}
					s.i += 6
					r = pair
				}
				sb.WriteRune(r)
			default:
				// e quoted: a raw control byte must not reach a terminal or log.
				return "", s.errf("invalid escape \\%s", strings.Trim(fmt.Sprintf("%q", []byte{e}), `"`))
			}
		default:
			sb.WriteByte(c)
			s.i++
		}
	}
}

func (s *scanner) hex4(at int) (rune, error) {
	if at+4 > len(s.b) {
		s.i = len(s.b)
		return 0, s.eof()
	}
	var r rune
	for _, c := range s.b[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, s.errf("invalid \\u escape")
		}
	}
	return r, nil
}

func (s *scanner) object(depth int, t reflect.Type) error {
	if depth > MaxDepth {
		return s.errf("nesting deeper than %d", MaxDepth)
	}
	s.i++ // {
	var keys keySet
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.skipSpace()
		if s.i >= len(s.b) {
			return s.eof()
		}
		if s.b[s.i] != '"' {
			return s.errf("invalid character %q looking for object key", s.b[s.i])
		}
		at := s.i
		key, err := s.str()
		if err != nil {
			return err
		}
		if prev, dup := keys.add(key); dup {
			s.i = at
			if prev == key {
				return s.errf("duplicate key %q", key)
			}
			return s.errf("duplicate key %q (also %q; keys differing only in case are ambiguous)", key, prev)
		}
		ct, field := child(t, key)
		if field != "" {
			s.i = at
			return s.errf("key %q is not %q (keys are case-sensitive)", key, field)
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return s.eof()
		}
		if s.b[s.i] != ':' {
			return s.errf("expected ':' after object key")
		}
		s.i++
		s.skipSpace()
		if err := s.value(depth, ct); err != nil {
			return err
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return s.eof()
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errf("invalid character %q after object value", s.b[s.i])
		}
	}
}

// keySet holds one object's keys. Objects are small as a rule, so up to
// smallObject keys are compared pairwise with strings.EqualFold (the
// equivalence encoding/json matches fields by) without allocating; larger
// ones switch to a map of folded keys.
type keySet struct {
	list []string
	m    map[string]string
}

const smallObject = 16

// add records key and returns the earlier key it collides with, if any.
func (k *keySet) add(key string) (string, bool) {
	if k.m == nil {
		for _, p := range k.list {
			if strings.EqualFold(p, key) {
				return p, true
			}
		}
		if len(k.list) < smallObject {
			k.list = append(k.list, key)
			return "", false
		}
		k.m = make(map[string]string, 2*smallObject)
		for _, p := range k.list {
			k.m[foldKey(p)] = p
		}
	}
	f := foldKey(key)
	if p, ok := k.m[f]; ok {
		return p, true
	}
	k.m[f] = key
	return "", false
}

// foldKey maps key to a canonical member of its case-folding class, the
// same equivalence encoding/json uses to match keys to struct fields (so
// "ſize" and "SIZE" both collide with "size"). A rune whose class holds an
// ASCII lower-case letter maps to it, any other to its class's least
// member; so lower-case ASCII keys, nearly all keys, map to themselves.
func foldKey(key string) string {
	ascii, upper := true, false
	for i := 0; i < len(key); i++ {
		c := key[i]
		ascii = ascii && c < utf8.RuneSelf
		upper = upper || c >= 'A' && c <= 'Z'
	}
	switch {
	case ascii && !upper:
		return key
	case ascii:
		return strings.ToLower(key)
	}
	var sb strings.Builder
	for _, r := range key {
		sb.WriteRune(foldRune(r))
	}
	return sb.String()
}

func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= 'a' && f <= 'z' {
			return f
		}
		least = min(least, f)
	}
	if r >= 'a' && r <= 'z' {
		return r
	}
	return least
}

func (s *scanner) array(depth int, elem reflect.Type) error {
	if depth > MaxDepth {
		return s.errf("nesting deeper than %d", MaxDepth)
	}
	s.i++ // [
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.skipSpace()
		if err := s.value(depth, elem); err != nil {
			return err
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return s.eof()
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errf("invalid character %q after array element", s.b[s.i])
		}
	}
}
