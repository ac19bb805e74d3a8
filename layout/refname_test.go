package layout

import (
	"regexp"
	"testing"
)

// isRefName agrees with the grammar written as a regular expression.
func TestIsRefNameMatchesGrammar(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$`)
	alphabet := []string{"a", "Z", "0", "-", "--", "---", ".", "_", ":", "@", "+", "/", "//", " ", "é", "\x00"}
	var gen func(prefix string, depth int)
	n := 0
	gen = func(prefix string, depth int) {
		if got, want := isRefName(prefix), re.MatchString(prefix); got != want {
			t.Errorf("isRefName(%q) = %v, grammar says %v", prefix, got, want)
		}
		n++
		if depth == 0 {
			return
		}
		for _, a := range alphabet {
			gen(prefix+a, depth-1)
		}
	}
	gen("", 4)
	if n < 60000 {
		t.Fatalf("only %d names tried", n)
	}
}
