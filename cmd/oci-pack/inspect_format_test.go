package main

import (
	"strings"
	"testing"
)

// Annotation keys from a layout never reach the terminal as escape
// sequences, and a huge value is cut, its length given.
func TestSortedAnnotationsSafe(t *testing.T) {
	got := sortedAnnotations(map[string]string{
		"k\x1b[5mx": "v\x1b[2J",
		"big":       strings.Repeat("a", 3000),
	})
	joined := strings.Join(got, "\n")
	if strings.ContainsRune(joined, '\x1b') {
		t.Errorf("escape character printed: %q", joined)
	}
	if !strings.Contains(joined, `"k\x1b[5mx"=`) {
		t.Errorf("key not quoted: %q", joined)
	}
	if !strings.Contains(joined, "(3000 bytes)") || len(joined) > 1000 {
		t.Errorf("big value not cut (%d bytes shown)", len(joined))
	}
}
