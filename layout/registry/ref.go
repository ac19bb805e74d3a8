package registry

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"oras.land/oras-go/v2/registry"
)

// hostPort is a registry host with a port: name:digits or [v6]:digits.
var hostPort = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$`)

// dottedHost is a host name with at least one dot (an FQDN or an IPv4
// address), not "." or ".." or a name that starts with a dot.
var dottedHost = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$`)

// IsReference reports whether s names a repository on a registry rather
// than a layout directory: it has a "/" and what comes before the first
// one looks like a registry host — it contains a dot (registry.example,
// 10.0.0.1), has a :port, or is localhost. Such a string is never taken
// for a local directory (DESIGN §5b), so ./models, ../x, /abs and
// models:tag stay layouts.
func IsReference(s string) bool {
	host, _, ok := strings.Cut(s, "/")
	if !ok || host == "" {
		return false
	}
	return host == "localhost" || hostPort.MatchString(host) || dottedHost.MatchString(host)
}

// Reference is a parsed registry reference: HOST/REPO[:TAG|@DIGEST].
type Reference = registry.Reference

// ParseReference parses s (which IsReference accepts) into registry,
// repository and tag or digest, validating each. Errors wrap
// layout.ErrInvalidArgument.
func ParseReference(s string) (Reference, error) {
	if !IsReference(s) {
		return Reference{}, fmt.Errorf("%w: %q is not a registry reference (expected HOST/REPOSITORY[:TAG|@DIGEST], HOST with a dot, a :port, or localhost)", layout.ErrInvalidArgument, s)
	}
	r, err := registry.ParseReference(s)
	if err != nil {
		return Reference{}, fmt.Errorf("%w: registry reference %q: %v", layout.ErrInvalidArgument, s, err)
	}
	if strings.Contains(s[len(r.Registry)+1:], "@") && strings.Contains(strings.SplitN(s[len(r.Registry)+1:], "@", 2)[0], ":") {
		// REPO:TAG@DIGEST: oras-go drops the tag silently; refuse instead
		// of picking one (RELIABILITY I10).
		return Reference{}, fmt.Errorf("%w: registry reference %q has both a tag and a digest; give one", layout.ErrInvalidArgument, s)
	}
	return r, nil
}
