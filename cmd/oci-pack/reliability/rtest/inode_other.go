//go:build !unix

package rtest

import "testing"

// AssertNoSharedInode is a no-op where inodes are not reported.
func (s *Sentinel) AssertNoSharedInode(t testing.TB, dir string) {}
