// Package crash is the crash-safety suite of RELIABILITY.md (D-39, D-41,
// D-43..D-45 and "Crash safety on a 2-core Linux machine without root"),
// run against the real oci-pack binary:
//
//   - TestKillSweep: SIGKILL at the Nth write, fsync, rename and unlink
//     of pack, tag, import, gc, export and extract, for every N, then the
//     D-41 invariants (index.json old or new, every blob verifies, verify
//     passes, the re-run succeeds, no staging after gc, no final file
//     that is not complete).
//   - TestFsyncOrder: the three fsync-order rules of section 5.2 checked
//     on an `strace -f -y` trace.
//   - TestFault*: ENOSPC, EIO, EDQUOT, EXDEV and EFBIG injected, and a
//     real full tmpfs (D-39, section 5.3).
//   - TestConcurrent*: many processes tagging, importing and packing
//     into one layout while gc loops (D-43..D-45).
//   - TestChaos: kill after a random delay, same invariants.
//
// strace counts `inject=…:when=N` per thread, and a Go program spreads
// its syscalls over several threads, so strace cannot stop a Go program
// at its Nth write overall. The kill sweep and the fault injection use
// a small ptrace tracer of their own (tracer_linux_amd64_test.go) that
// counts across all threads; strace is used for the fsync-order trace.
// CRASH_SWEEP=full (make crash) adds every other file syscall as a crash
// point and runs the chaos loop 1,000 times.
//
// All code is in _test.go files, Linux only.
package crash
