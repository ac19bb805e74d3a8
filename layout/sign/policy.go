package sign

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// Policy says which keys may sign which tags. Its rules are tried in
// order and the first whose glob matches a tag names the keys trusted for
// it (any one of them suffices); a tag no rule matches is trusted to no
// key.
type Policy struct {
	Rules []Rule
}

// Rule trusts Keys for the tags matching any of Tags. A glob's * matches
// any run of characters (/ and : included), ? any one character; nothing
// else is special.
type Rule struct {
	Tags []string
	Keys []*PublicKey
}

// KeysPolicy trusts keys for every tag (`verify --key`).
func KeysPolicy(keys ...*PublicKey) *Policy {
	return &Policy{Rules: []Rule{{Tags: []string{"*"}, Keys: keys}}}
}

// KeysFor returns the keys trusted for tag (nil if no rule matches).
func (p *Policy) KeysFor(tag string) []*PublicKey {
	for _, r := range p.Rules {
		for _, g := range r.Tags {
			if globMatch(g, tag) {
				return r.Keys
			}
		}
	}
	return nil
}

// AllKeys returns every key the policy names, each once, in rule order.
func (p *Policy) AllKeys() []*PublicKey {
	var out []*PublicKey
	seen := map[*PublicKey]bool{}
	for _, r := range p.Rules {
		for _, k := range r.Keys {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// trustFile is the JSON form of a policy (`verify --trust FILE`):
//
//	{
//	  "version": 1,
//	  "keys": {"release": "keys/release.pub", "ml": "-----BEGIN PUBLIC KEY-----\n…"},
//	  "rules": [
//	    {"tags": ["llama-*", "mistral-*"], "keys": ["ml"]},
//	    {"tags": ["*"], "keys": ["release"]}
//	  ]
//	}
//
// A key is a path to a PEM public key, relative to the trust file's
// directory, or the PEM itself.
type trustFile struct {
	Version int               `json:"version"`
	Keys    map[string]string `json:"keys"`
	Rules   []struct {
		Tags []string `json:"tags"`
		Keys []string `json:"keys"`
	} `json:"rules"`
}

// maxTrustFile bounds a trust file.
const maxTrustFile = 1 << 20

// LoadPolicy reads a trust file. It is strict: unknown or duplicate keys,
// a version other than 1, a rule without tags or keys, an empty glob, a
// key name no entry defines, and a key defined but never used are errors
// (ErrInvalidArgument), so a typo cannot silently trust nothing or
// everything.
func LoadPolicy(path string) (*Policy, error) {
	f, _, err := openKeyFile(path)
	if err != nil {
		return nil, err
	}
	b, err := strictjson.ReadAll(f, maxTrustFile)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("trust file %s: %v: %w", path, err, layout.ErrInvalidArgument)
	}
	p, err := ParsePolicy(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("trust file %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy parses a trust file's bytes; relative key paths are taken
// from dir.
func ParsePolicy(b []byte, dir string) (*Policy, error) {
	bad := func(format string, args ...any) (*Policy, error) {
		return nil, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), layout.ErrInvalidArgument)
	}
	var tf trustFile
	if err := strictjson.Unmarshal(b, &tf); err != nil {
		return bad("%v", err)
	}
	if tf.Version != 1 {
		return bad("version %d, expected 1", tf.Version)
	}
	if len(tf.Rules) == 0 {
		return bad("no rules: nothing would be trusted")
	}
	keys := map[string]*PublicKey{}
	names := make([]string, 0, len(tf.Keys))
	for name := range tf.Keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		k, err := policyKey(tf.Keys[name], dir)
		if err != nil {
			return bad("key %q: %v", name, err)
		}
		k.Name = name
		keys[name] = k
	}
	used := map[string]bool{}
	p := &Policy{}
	for i, r := range tf.Rules {
		if len(r.Tags) == 0 || len(r.Keys) == 0 {
			return bad("rules[%d]: needs at least one tag glob and one key", i)
		}
		rule := Rule{Tags: r.Tags}
		for _, g := range r.Tags {
			if g == "" {
				return bad("rules[%d]: empty tag glob", i)
			}
		}
		for _, name := range r.Keys {
			k, ok := keys[name]
			if !ok {
				return bad("rules[%d]: key %q is not defined under \"keys\"", i, name)
			}
			used[name] = true
			rule.Keys = append(rule.Keys, k)
		}
		p.Rules = append(p.Rules, rule)
	}
	for _, name := range names {
		if !used[name] {
			return bad("key %q is defined but no rule uses it", name)
		}
	}
	return p, nil
}

// policyKey loads a trust file's key: inline PEM, or a file.
func policyKey(v, dir string) (*PublicKey, error) {
	if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		return ParsePublicKey([]byte(v))
	}
	if v == "" {
		return nil, fmt.Errorf("empty path")
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(dir, v)
	}
	return LoadPublicKey(v)
}

// globMatch matches s against g: * is any run of characters, ? any one.
func globMatch(g, s string) bool {
	for len(g) > 0 {
		switch g[0] {
		case '*':
			for g != "" && g[0] == '*' {
				g = g[1:]
			}
			if g == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(g, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			g, s = g[1:], s[1:]
		default:
			if s == "" || s[0] != g[0] {
				return false
			}
			g, s = g[1:], s[1:]
		}
	}
	return s == ""
}
