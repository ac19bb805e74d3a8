package extract

import (
	"runtime"
	"strings"
	"testing"
)

func TestCleanName(t *testing.T) {
	ok := map[string]string{
		"model.bin":              "model.bin",
		"./tok/a.json":           "tok/a.json",
		"tok/":                   "tok",
		"a//b":                   "a/b",
		"a/./b":                  "a/b",
		"a/../b":                 "b",
		"...":                    "...",
		"a..b":                   "a..b",
		"-rf":                    "-rf",
		" x ":                    " x ",
		"名前/ünï":                 "名前/ünï",
		strings.Repeat("x", 255): strings.Repeat("x", 255),
	}
	for in, want := range ok {
		got, err := cleanName(in)
		if err != nil || got != want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                                      "is empty",
		".":                                     "not a local path",
		"./":                                    "not a local path",
		"..":                                    "not a local path",
		"../x":                                  "not a local path",
		"a/../../x":                             "not a local path",
		"/etc/passwd":                           "not a local path",
		"//x":                                   "not a local path",
		"a\x00b":                                "NUL",
		strings.Repeat("x", 256):                "255 bytes",
		"ok/" + strings.Repeat("y", 300) + "/z": "255 bytes",
	}
	if runtime.GOOS == "windows" {
		bad[`a\b`] = "backslash"
		bad["CON"] = "not a local path"
		bad["x."] = "dot or space"
	}
	for in, reason := range bad {
		if got, err := cleanName(in); err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("cleanName(%q) = %q, %v; want an error saying %q", in, got, err, reason)
		}
	}
}

func TestSymlinkInside(t *testing.T) {
	cases := []struct {
		name, target string
		inside       bool
	}{
		{"t/a", "b", true},
		{"t/a", "../t/b", true},
		{"t/a", "..", true},     // the root itself
		{"t/a", "../..", false}, // its parent
		{"t/a", "/etc", false},
		{"t/a", "", false},
		{"t/a", "b\x00", false},
		{"t/d/e/f", "../../../x", true},
		{"t/d/e/f", "../../../../x", false},
		{"a", "b/../../x", false},
	}
	for _, c := range cases {
		if got := symlinkInside(c.name, c.target); got != c.inside {
			t.Errorf("symlinkInside(%q, %q) = %v, want %v", c.name, c.target, got, c.inside)
		}
	}
}

func TestMatcher(t *testing.T) {
	m := matcher{"*.safetensors", "tok", "docs/*.md"}
	for name, want := range map[string]bool{
		"a.safetensors":     true,
		"sub/a.safetensors": false, // * does not cross /
		"tok":               true,
		"tok/a/b.json":      true, // below a matched directory
		"docs/x.md":         true,
		"docs/sub/x.md":     false,
		"other":             false,
	} {
		if got := m.match(name); got != want {
			t.Errorf("match(%q) = %v, want %v", name, got, want)
		}
	}
	for dir, want := range map[string]bool{"docs": true, "tok": true, "tok/sub": true, "other": false, "docs/sub": false} {
		if got := m.mayMatchUnder(dir); got != want {
			t.Errorf("mayMatchUnder(%q) = %v, want %v", dir, got, want)
		}
	}
	if !(matcher{}).match("anything") || !(matcher{}).mayMatchUnder("x") {
		t.Error("an empty matcher must include everything")
	}
	if err := checkGlobs([]string{"ok*", "[bad"}); err == nil || !strings.Contains(err.Error(), `"[bad"`) {
		t.Errorf("checkGlobs: %v", err)
	}
}
