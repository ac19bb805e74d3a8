//go:build unix

package layout

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"golang.org/x/sys/unix"
)

func tryLock(f *os.File, exclusive bool) (bool, error) {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, err
		}
	}
}

func unlockFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }

// lockHolders names the processes holding a flock on path, from
// /proc/locks (Linux only; elsewhere it finds nothing). Best effort: it
// only feeds error messages.
func lockHolders(path string) []string {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return nil
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return nil
	}
	defer f.Close()
	want := fmt.Sprintf(":%d", st.Ino)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" || !strings.HasSuffix(fields[5], want) {
			continue
		}
		pid, err := strconv.Atoi(fields[4])
		if err != nil || pid == os.Getpid() {
			continue
		}
		out = append(out, describeProcess(pid))
	}
	return out
}

// describeProcess names a lock holder for a person: "pid 42 (oci-pack
// import)" when it is oci-pack, "pid 42 (flock)" for any other program —
// the holder need not be oci-pack, and saying so would send the user
// looking for the wrong process.
func describeProcess(pid int) string {
	desc := fmt.Sprintf("pid %d", pid)
	cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(cmd) == 0 {
		return desc
	}
	args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
	prog := filepath.Base(args[0])
	if prog == "oci-pack" && len(args) >= 2 {
		return fmt.Sprintf("%s (%s %s)", desc, prog, printable(args[1]))
	}
	return fmt.Sprintf("%s (%s)", desc, printable(prog))
}

// printable is s, or s Go-quoted when it holds a character that is not
// printable: another process's command line must not reach the user's
// terminal as escape sequences.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}
