//go:build linux

package crash

import (
	"strings"
	"testing"
)

// The parser joins -f's split calls, reads -y paths and strings, and
// skips signal and exit lines.
func TestParseStrace(t *testing.T) {
	log := `100 openat(AT_FDCWD</w>, "L/.oci-pack/gc.lock", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 8</w/L/.oci-pack/gc.lock>
101 write(14</w/L/.oci-pack/tmp/1-a/blob-1>, "{\"a\",\"b\")"..., 666 <unfinished ...>
100 renameat(13</w/L/.oci-pack/tmp/1-a>, "index.json-x", 5</w/L>, "index.json") = 0
101 <... write resumed>)              = 666
102 fsync(14</w/L/blobs/sha256> <unfinished ...>
100 --- SIGURG {si_signo=SIGURG, si_code=SI_TKILL, si_pid=100, si_uid=0} ---
102 <... fsync resumed>)              = -1 EIO (Input/output error)
100 openat(5</w/L>, "x" <unfinished ...>
100 <... openat resumed>, O_RDONLY|O_CLOEXEC) = 9</w/L/x>
100 write(1</dev/null<char 1:3>>, "sha256:ab\n", 10) = 10
100 exit_group(0)                     = ?
100 +++ exited with 0 +++
`
	calls, err := parseStrace(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 7 {
		t.Fatalf("%d calls, want 7: %+v", len(calls), calls)
	}
	want := []struct {
		name       string
		start, end int
		ret        string
		path0      string
	}{
		{"openat", 1, 1, "8</w/L/.oci-pack/gc.lock>", "/w"},
		{"write", 2, 4, "666", "/w/L/.oci-pack/tmp/1-a/blob-1"},
		{"renameat", 3, 3, "0", "/w/L/.oci-pack/tmp/1-a"},
		{"fsync", 5, 7, "-1 EIO (Input/output error)", "/w/L/blobs/sha256"},
		{"openat", 8, 9, "9</w/L/x>", "/w/L"},
		{"write", 10, 10, "10", "/dev/null<char 1:3>"},
		{"exit_group", 11, 11, "?", ""},
	}
	for i, w := range want {
		c := calls[i]
		if c.Name != w.name || c.Start != w.start || c.End != w.end || c.Ret != w.ret || c.fdPath(0) != w.path0 {
			t.Errorf("call %d: %s lines %d-%d = %q path %q; want %+v", i, c.Name, c.Start, c.End, c.Ret, c.fdPath(0), w)
		}
	}
	if got := calls[2].Args[3].Str; got != "index.json" {
		t.Errorf("renameat new name %q", got)
	}
	if got := calls[1].Args; len(got) != 3 || got[2].Raw != "666" {
		t.Errorf("write args %+v: the quoted comma and parenthesis split it", got)
	}
	if got := calls[4].Args; len(got) != 3 || got[2].Raw != "O_RDONLY|O_CLOEXEC" {
		t.Errorf("resumed openat args %+v", got)
	}
	if calls[5].fd(0) != 1 || calls[3].ok() || !calls[2].ok() {
		t.Errorf("fd/ok: %d %v %v", calls[5].fd(0), calls[3].ok(), calls[2].ok())
	}
	if _, err := parseStrace(strings.NewReader("7 <... fsync resumed>) = 0\n")); err == nil {
		t.Errorf("a resumed line without its start was accepted")
	}
}
