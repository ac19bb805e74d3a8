package layout

import (
	"fmt"
	"os"
	"strings"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/opencontainers/go-digest"
)

// Ref is a parsed CLI reference: LAYOUT, LAYOUT:TAG or LAYOUT@DIGEST.
type Ref struct {
	Layout string
	Tag    string        // "" unless a tag was given
	Digest digest.Digest // "" unless a digest was given
}

// String formats r the way ParseRef reads it.
func (r Ref) String() string {
	switch {
	case r.Digest != "":
		return r.Layout + "@" + r.Digest.String()
	case r.Tag != "":
		return r.Layout + ":" + r.Tag
	}
	return r.Layout
}

// Name is the tag or the digest, whichever was given.
func (r Ref) Name() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}

// ParseRef splits s into a layout path and an optional tag or digest.
// A digest follows the last "@" when what follows contains ":". Otherwise
// the tag follows a ":" — the first one whose prefix is an existing
// directory, else the first one after any Windows drive letter. Tag and
// digest are validated.
func ParseRef(s string) (Ref, error) {
	if s == "" {
		return Ref{}, fmt.Errorf("empty reference")
	}
	if at := strings.LastIndex(s, "@"); at > 0 && strings.Contains(s[at+1:], ":") {
		d, err := cas.ParseDigest(s[at+1:])
		if err != nil {
			return Ref{}, err
		}
		return Ref{Layout: s[:at], Digest: d}, nil
	}
	if isDir(s) {
		return Ref{Layout: s}, nil
	}
	start := 0
	if len(s) >= 3 && s[1] == ':' && isLetter(s[0]) && (s[2] == '\\' || s[2] == '/') {
		start = 2 // C:\path
	}
	split := -1
	for i := start; i < len(s); i++ {
		if s[i] == ':' {
			if split < 0 {
				split = i
			}
			if isDir(s[:i]) {
				split = i
				break
			}
		}
	}
	if split < 0 {
		return Ref{Layout: s}, nil
	}
	r := Ref{Layout: s[:split], Tag: s[split+1:]}
	if r.Layout == "" {
		return Ref{}, fmt.Errorf("reference %q has no layout path", s)
	}
	if err := ValidateTag(r.Tag); err != nil {
		return Ref{}, err
	}
	return r, nil
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
