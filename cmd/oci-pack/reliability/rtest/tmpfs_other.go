//go:build !linux

package rtest

import (
	"errors"
	"testing"
)

// Tmpfs is Linux-only (unshare, nsenter, tmpfs).
type Tmpfs struct {
	Dir  string
	Wrap []string
}

// NewTmpfs fails: there is no tmpfs namespace off Linux.
func NewTmpfs(t testing.TB, dir, size string) (*Tmpfs, error) {
	return nil, errors.New("a tmpfs in a private mount namespace needs Linux")
}

// View is p.
func (f *Tmpfs) View(p string) string { return p }

// Exec fails t.
func (f *Tmpfs) Exec(t testing.TB, args ...string) { t.Fatal("no tmpfs namespace off Linux") }
