// Package crash is the crash-safety suite of RELIABILITY.md (D-39, D-41,
// D-43..D-45 and "Crash safety on a 2-core Linux machine without root"),
// run against the real oci-pack binary:
//
//   - TestKillSweep (D-41): SIGKILL before the Nth write, fsync, rename
//     and unlink of pack (into an existing and a new layout), tag,
//     import, gc, export (one file and volumes) and extract, for every N;
//     then index.json is the old or the new version, every blob verifies,
//     verify passes, no final output name holds an incomplete file, the
//     re-run gives the uninterrupted outcome, and gc leaves no staging.
//   - TestFsyncOrder: the three fsync-order rules of section 5.2 checked
//     on an `strace -f -y` trace of each of those commands.
//   - TestFaultInjection, TestFullDisk, TestFileTooLarge (D-39, 5.3):
//     ENOSPC, EIO, EDQUOT and EXDEV injected at every call, a real full
//     tmpfs, and RLIMIT_FSIZE's EFBIG.
//   - TestConcurrentWriters, TestConcurrentSameImport,
//     TestIndexLockIsDedicated (D-43..D-45), TestTagAllOrNothing (I5).
//   - TestChaos: SIGKILL after a random delay, same invariants.
//
// strace counts `inject=…:when=N` per thread, and a Go program spreads its
// syscalls over several threads, so strace cannot stop a Go program at its
// Nth write overall. The kill sweep and the fault injection use a small
// ptrace tracer of their own (tracer_linux_amd64_test.go) that counts
// across all threads; strace is used for the fsync-order trace.
// CRASH_SWEEP=full (make crash) adds every other file syscall (openat,
// close, mkdirat, fchmod, flock, …) as crash points, injects EIO and
// EDQUOT at every write rather than every 3rd and 5th, and runs the chaos
// loop 1,000 times instead of 100.
//
// All code is in _test.go files, Linux only.
package crash
