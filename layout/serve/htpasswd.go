package serve

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/oci-pack/oci-pack/layout"
	"golang.org/x/crypto/bcrypt"
)

// Htpasswd holds the users of an htpasswd file (bcrypt entries only, as
// `htpasswd -B` writes them and distribution requires).
type Htpasswd struct {
	users map[string][]byte
	ok    sync.Map // [32]byte → true
}

// LoadHtpasswd reads an htpasswd file: "user:$2y$…" lines; blank lines
// and # comments are skipped. Other hash schemes are refused.
func LoadHtpasswd(name string) (*Htpasswd, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return nil, fmt.Errorf("%w: htpasswd %s: want a regular file of at most 1 MiB", layout.ErrInvalidArgument, name)
	}
	h := &Htpasswd{users: map[string][]byte{}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("%w: htpasswd %s line %d: want user:hash", layout.ErrInvalidArgument, name, n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("%w: htpasswd %s line %d (user %q): not a bcrypt hash (create entries with htpasswd -B)", layout.ErrInvalidArgument, name, n, user)
		}
		if _, dup := h.users[user]; dup {
			// Servers disagree on which line counts (Apache: the first):
			// ambiguous, refused (RELIABILITY I10).
			return nil, fmt.Errorf("%w: htpasswd %s line %d: user %q given twice", layout.ErrInvalidArgument, name, n, user)
		}
		h.users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("htpasswd %s: %w", name, err)
	}
	if len(h.users) == 0 {
		return nil, fmt.Errorf("%w: htpasswd %s has no users", layout.ErrInvalidArgument, name)
	}
	return h, nil
}

// check reports whether r carries the basic credentials of a user.
// Credentials that passed are remembered (by their SHA-256) so that a
// client's many requests do not each cost a bcrypt comparison; an unknown
// user costs one too, so timing does not tell which users exist.
func (h *Htpasswd) check(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	key := sha256.Sum256([]byte(user + "\x00" + pass))
	if _, ok := h.ok.Load(key); ok {
		return true
	}
	hash, known := h.users[user]
	if !known {
		hash = dummyHash()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || !known {
		return false
	}
	h.ok.Store(key, true)
	return true
}

// dummyHash is what an unknown user's password is compared against.
var dummyHash = sync.OnceValue(func() []byte {
	b, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	return b
})
