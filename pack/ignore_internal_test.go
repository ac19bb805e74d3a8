package pack

import (
	"io/fs"
	"testing"
)

// The exclude matcher follows gitignore's rules.
func TestIgnorer(t *testing.T) {
	m, err := newIgnorer([]string{
		"# a comment", "", "*.tmp", "/top.txt", "build/", "docs/**/draft.md", "cache/**", "!keep.tmp", `\#hash`, "trailing   ",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rel  string
		dir  bool
		want bool
	}{
		{"a.tmp", false, true},
		{"x/y/a.tmp", false, true},     // no slash: any depth
		{"keep.tmp", false, false},     // re-included
		{"top.txt", false, true},       // anchored
		{"x/top.txt", false, false},    // anchored: only at the top
		{"build", true, true},          // directories only
		{"build", false, false},        // a file named build stays
		{"x/build", true, true},        // any depth
		{"docs/draft.md", false, true}, // "**/" matches zero directories
		{"docs/a/b/draft.md", false, true},
		{"cache", true, false}, // "cache/**" is what is inside
		{"cache/x", false, true},
		{"#hash", false, true},
		{"trailing", false, true}, // trailing spaces trimmed
		{"# a comment", false, false},
		{"ok.txt", false, false},
	} {
		if got := m.ignored(c.rel, c.dir); got != c.want {
			t.Errorf("ignored(%q, dir=%v) = %v, want %v", c.rel, c.dir, got, c.want)
		}
	}
	if _, err := newIgnorer([]string{"[bad"}); err == nil {
		t.Error("a malformed pattern was accepted")
	}
	var none *ignorer
	if none.ignored("a", false) {
		t.Error("a nil ignorer ignores")
	}
}

// tarMode normalises permissions as git does unless PreserveMode.
func TestTarMode(t *testing.T) {
	for _, c := range []struct {
		perm       uint32
		dir        bool
		norm, kept int64
	}{
		{0o600, false, 0o644, 0o600},
		{0o664, false, 0o644, 0o664},
		{0o775, false, 0o755, 0o775},
		{0o744, false, 0o755, 0o744},
		{0o775, true, 0o755, 0o775},
		{0o700, true, 0o755, 0o700},
	} {
		fm := fileModeOf(c.perm, c.dir)
		if got := (TarOptions{}).tarMode(fm); got != c.norm {
			t.Errorf("%v: %o, want %o", fm, got, c.norm)
		}
		if got := (TarOptions{PreserveMode: true}).tarMode(fm); got != c.kept {
			t.Errorf("%v with PreserveMode: %o, want %o", fm, got, c.kept)
		}
	}
	if got := (TarOptions{}).tarMode(fs.ModeSymlink | 0o755); got != 0o777 {
		t.Errorf("symlink: %o, want 0777", got)
	}
}

func fileModeOf(perm uint32, dir bool) fs.FileMode {
	m := fs.FileMode(perm)
	if dir {
		m |= fs.ModeDir
	}
	return m
}
