package serve_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/serve"
	"golang.org/x/crypto/bcrypt"
)

// TestHtpasswdDuplicateUser: a user listed twice with two passwords is
// ambiguous (one server takes the first line, another the last): refused,
// naming the user and the line (I10).
func TestHtpasswdDuplicateUser(t *testing.T) {
	a, _ := bcrypt.GenerateFromPassword([]byte("old"), bcrypt.MinCost)
	b, _ := bcrypt.GenerateFromPassword([]byte("new"), bcrypt.MinCost)
	file := filepath.Join(t.TempDir(), "htpasswd")
	os.WriteFile(file, []byte("alice:"+string(a)+"\nbob:"+string(a)+"\nalice:"+string(b)+"\n"), 0o600)
	_, err := serve.LoadHtpasswd(file)
	if !errors.Is(err, layout.ErrInvalidArgument) || !strings.Contains(err.Error(), `"alice"`) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("got %v, want a usage error naming alice on line 3", err)
	}
}
