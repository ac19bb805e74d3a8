// Package rtest holds the shared helpers of the reliability suites
// (RELIABILITY.md): they run the real oci-pack binary and check what the
// contract's expected-behaviour codes promise.
//
//   - Bin, Run, RunIn, RunWith, Must: the binary ($OCI_PACK_BIN, else built
//     once) and one run of it (Opts: working directory, stdin, timeout with
//     a goroutine dump, another user, a wrapper such as prlimit or a Tmpfs
//     namespace) with its exit code, output and peak RSS.
//   - Snap, Snapshot.AssertUnchanged, AssertNoStaging, AssertVerify: [U], [N]
//     and [V] on a layout.
//   - NewSentinel, Sentinel.AssertIntact, AssertNotLeaked,
//     AssertNoSharedInode: [C].
//   - AssertCode, AssertFail, AssertOneErrorLine: [E]. AssertRSS: [M].
//   - Tar, TarNoEOF, TarStream, Reg, Dir, Symlink, Hardlink, Raw,
//     UstarHeader, PAXBlock, Rechecksum: archives with arbitrary names,
//     types, modes and sizes, raw header bytes, streamed without bounds.
//   - Good, Fixture: the small valid layout good/ with tag v1, and editing
//     that re-hashes and re-links every document so digests stay valid.
//   - NewTmpfs: a real small disk (tmpfs in a private mount namespace).
//
// Tests that use Bin should call rtest.Main from TestMain so the built
// binary is removed afterwards.
package rtest
