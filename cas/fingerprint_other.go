//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package cas

import "os"

// fingerprintOf: Windows stat has no inode number or ctime, so no
// fingerprint proves a blob unchanged there; every trust check re-hashes.
func fingerprintOf(os.FileInfo) (Fingerprint, bool) { return Fingerprint{}, false }
