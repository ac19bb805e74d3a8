package fsx

import (
	"errors"
	"sync"
)

// ErrExiting: the process is exiting on a signal; nothing new is created.
var ErrExiting = errors.New("exiting on a signal")

// TempSet is the set of temporary paths a process is writing — staging
// directories, .partial files — that must go if a signal forces it to
// exit without unwinding (RELIABILITY I5, I16). Creating a path and
// removing them all exclude each other: Create either runs before
// RemoveAll (which then removes what it made) or is refused after it, so
// nothing created concurrently with a forced exit is left behind.
type TempSet struct {
	mu     sync.Mutex
	paths  map[string]bool
	closed bool
}

// Create registers path and runs create, which makes it, as one step
// with respect to RemoveAll. After RemoveAll it fails with ErrExiting and
// creates nothing. If create fails, path is unregistered.
func (s *TempSet) Create(path string, create func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrExiting
	}
	if err := create(); err != nil {
		return err
	}
	if s.paths == nil {
		s.paths = map[string]bool{}
	}
	s.paths[path] = true
	return nil
}

// Done unregisters path: it was renamed into place or removed.
func (s *TempSet) Done(path string) {
	s.mu.Lock()
	delete(s.paths, path)
	s.mu.Unlock()
}

// RemoveAll calls remove on every registered path and refuses every later
// Create. It is for the way out only.
func (s *TempSet) RemoveAll(remove func(path string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for p := range s.paths {
		remove(p)
	}
	s.paths = nil
}
