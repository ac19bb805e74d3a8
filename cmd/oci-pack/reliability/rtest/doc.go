// Package rtest holds the shared helpers of the reliability suites
// (RELIABILITY.md): they run the real oci-pack binary and check what the
// contract's expected-behaviour codes promise.
//
//   - Bin, Run, RunIn, Must: the binary ($OCI_PACK_BIN, else built once) and
//     one run of it with its exit code, output and peak RSS.
//   - Snap, Snapshot.AssertUnchanged, AssertNoStaging, AssertVerify: [U], [N]
//     and [V] on a layout.
//   - NewSentinel, Sentinel.AssertIntact, Sentinel.AssertNotLeaked: [C].
//   - AssertOneErrorLine, AssertCode: [E].
//   - AssertRSS: [M].
//   - Tar, Reg, Dir, Symlink, Hardlink, Raw, UstarHeader, PAXBlock: archives
//     with arbitrary names, types, modes and sizes, and raw header bytes.
//   - Good, Fixture: the small valid layout good/ with tag v1, and editing
//     that re-hashes and re-links every document so digests stay valid.
//
// Tests that use Bin should call rtest.Main from TestMain so the built
// binary is removed afterwards.
package rtest
