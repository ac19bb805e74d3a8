//go:build linux

package crash

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// call is one syscall from an `strace -f -y` log. A call split by -f
// into "<unfinished …>" and "<… resumed>" lines is joined: Start is the
// line it was issued on, End the line it returned on (equal when it was
// printed whole).
type call struct {
	Tid        int
	Name       string
	Args       []arg
	Ret        string // "0", "-1 ENOENT (…)", "8</path>", "?"
	Start, End int    // line numbers, 1-based
}

// arg is one argument. For a file descriptor printed with -y, "13</a/b>"
// (or "AT_FDCWD</cwd>"), Path is "/a/b"; for a string, Str is its value.
type arg struct {
	Raw  string
	Path string
	Str  string
}

// ok says whether the call succeeded (returned 0 or a positive value).
func (c call) ok() bool {
	return c.Ret != "" && c.Ret != "?" && !strings.HasPrefix(c.Ret, "-")
}

// fdPath is the -y path of argument i ("" if none).
func (c call) fdPath(i int) string {
	if i < len(c.Args) {
		return c.Args[i].Path
	}
	return ""
}

// fd is the number of argument i, -1 if it is not one.
func (c call) fd(i int) int {
	if i >= len(c.Args) {
		return -1
	}
	num, _, _ := strings.Cut(c.Args[i].Raw, "<")
	n, err := strconv.Atoi(num)
	if err != nil {
		return -1
	}
	return n
}

// parseStrace reads an `strace -f -y` log. Signal and exit lines are
// skipped; a line it cannot read is an error naming it.
func parseStrace(r io.Reader) ([]call, error) {
	var out []call
	pending := map[int]int{} // tid → index in out of its unfinished call
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		tidStr, rest, _ := strings.Cut(line, " ")
		tid, err := strconv.Atoi(tidStr)
		if err != nil {
			return nil, fmt.Errorf("line %d: no thread id: %q", n, line)
		}
		rest = strings.TrimLeft(rest, " ")
		switch {
		case strings.HasPrefix(rest, "---"), strings.HasPrefix(rest, "+++"):
			continue
		case strings.HasPrefix(rest, "<... "):
			// <... fsync resumed>) = 0   or   <... openat resumed>, 0644) = 8</p>
			i, ok := pending[tid]
			if !ok {
				return nil, fmt.Errorf("line %d: resumed call without its start: %q", n, line)
			}
			delete(pending, tid)
			_, tail, found := strings.Cut(rest, " resumed>")
			if !found {
				return nil, fmt.Errorf("line %d: cannot read %q", n, line)
			}
			c := &out[i]
			argText, ret, done := splitRet(tail)
			if more := strings.TrimPrefix(strings.TrimSpace(argText), ","); strings.TrimSpace(more) != "" {
				c.Args = append(c.Args, splitArgs(more)...)
			}
			c.End = n
			if done {
				c.Ret = ret
			}
			continue
		}
		open := strings.IndexByte(rest, '(')
		if open <= 0 {
			return nil, fmt.Errorf("line %d: cannot read %q", n, line)
		}
		c := call{Tid: tid, Name: rest[:open], Start: n, End: n}
		body := rest[open+1:]
		if before, ok := strings.CutSuffix(body, " <unfinished ...>"); ok {
			c.Args = splitArgs(before)
			pending[tid] = len(out)
			out = append(out, c)
			continue
		}
		argText, ret, done := splitRet(body)
		if !done {
			return nil, fmt.Errorf("line %d: no return value: %q", n, line)
		}
		c.Args, c.Ret = splitArgs(argText), ret
		out = append(out, c)
	}
	return out, sc.Err()
}

// splitRet splits "ARGS)   = RET" (strace pads before the "=") at the
// last " = " that follows a ")".
func splitRet(s string) (args, ret string, ok bool) {
	i := strings.LastIndex(s, " = ")
	if i < 0 {
		return s, "", false
	}
	head := strings.TrimRight(s[:i], " ")
	if !strings.HasSuffix(head, ")") {
		return s, "", false
	}
	return head[:len(head)-1], strings.TrimSpace(s[i+3:]), true
}

// splitArgs splits an argument list at top-level commas: not inside a
// string, nor inside (), [], {} or a -y <path>.
func splitArgs(s string) []arg {
	var out []arg
	depth, start := 0, 0
	inStr := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case inStr && ch == '\\':
			i++
		case ch == '"':
			inStr = !inStr
		case inStr:
		case strings.IndexByte("([{<", ch) >= 0:
			depth++
		case strings.IndexByte(")]}>", ch) >= 0:
			depth--
		case ch == ',' && depth == 0:
			out = append(out, newArg(s[start:i]))
			start = i + 1
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		out = append(out, newArg(s[start:]))
	}
	return out
}

func newArg(raw string) arg {
	raw = strings.TrimSpace(raw)
	a := arg{Raw: raw}
	switch {
	case strings.HasPrefix(raw, `"`):
		a.Str = strings.TrimSuffix(raw, "...") // strace's -s cut
		if u, err := strconv.Unquote(a.Str); err == nil {
			a.Str = u
		} else {
			a.Str = strings.Trim(a.Str, `"`)
		}
	case strings.HasSuffix(raw, ">"):
		if i := strings.IndexByte(raw, '<'); i > 0 {
			a.Path = raw[i+1 : len(raw)-1]
		}
	}
	return a
}

// strace is the strace binary. A missing strace is installed with
// scripts/tools.sh; if that fails too, the test fails under CI=true and
// is skipped otherwise.
func strace(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("strace"); err == nil {
		return p
	}
	if tools, err := filepath.Abs("../../../../scripts/tools.sh"); err == nil {
		out, err := exec.Command(tools, "strace").CombinedOutput()
		if p, lerr := exec.LookPath("strace"); lerr == nil {
			return p
		}
		t.Logf("scripts/tools.sh strace: %v\n%s", err, out)
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("strace is missing and scripts/tools.sh could not install it (apt-get install -y strace)")
	}
	t.Skip("strace is missing (apt-get install -y strace, or scripts/tools.sh strace)")
	return ""
}
