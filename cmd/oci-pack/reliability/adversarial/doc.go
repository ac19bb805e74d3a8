// Package adversarial is the RELIABILITY.md adversarial suite: every case
// of groups A–F, and more drawn from the CVE history the contract cites,
// run against the real oci-pack binary, each checking the expected-behaviour
// codes that apply ([E] exit class and one error line naming the object,
// [U] layout untouched, [C] containment, [M] peak RSS, [N] no partial file
// under a final name, [V] verify passes and a good re-run succeeds).
//
// Tests are named after the cases (TestA01_PathTraversal, …) so the README
// can cite them. The code is all in _test.go files; helpers shared with
// other suites are in package rtest.
package adversarial
