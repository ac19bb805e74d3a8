package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/registry"
)

// References on the command line. Every command names artifacts the same
// way, LAYOUT[:TAG|@DIGEST], and every reference goes through parseRef,
// which adds two rules to layout.ParseRef:
//
//   - a reference that looks like a registry's (registry.IsReference: its
//     first path component is a host, with a "." or a ":port", or
//     "localhost") or starts with another tool's transport prefix (oci:,
//     docker://, …) is never taken as a NEW local directory: it is refused
//     (exit 2) with what to type instead — push, pull or copy, which take
//     registry references. An existing directory of that name still works.
//   - x:y:z when both x and x:y are directories is ambiguous, and refused.

// transports are other tools' reference prefixes; the text says what the
// user meant.
var transports = []struct{ prefix, meant string }{
	{"docker://", "a registry reference (skopeo's spelling)"},
	{"oci-archive:", "an OCI archive (skopeo's spelling)"},
	{"docker-archive:", "a docker save archive (skopeo's spelling)"},
	{"docker-daemon:", "a Docker daemon image (skopeo's spelling)"},
	{"containers-storage:", "a Podman/CRI-O storage image (skopeo's spelling)"},
	{"oci:", "an OCI layout (skopeo's spelling)"},
	{"ocidir://", "an OCI layout (regctl's spelling)"},
	{"oci-layout://", "an OCI layout"},
	{"http://", "a URL"},
	{"https://", "a URL"},
}

// transportOf returns the transport prefix s starts with, if any.
func transportOf(s string) (prefix, meant string) {
	for _, t := range transports {
		if strings.HasPrefix(s, t.prefix) {
			return t.prefix, t.meant
		}
	}
	return "", ""
}

// remoteRef reports whether arg names a registry repository to copy,
// push or pull, not a layout: it reads as one (registry.IsReference, the
// one rule) and no directory of that name exists. An existing directory
// still works as a layout (issue 14); the returned note says so.
func remoteRef(arg string) (bool, string) {
	if !registry.IsReference(arg) {
		return false, ""
	}
	if r, err := layout.ParseRef(arg); err == nil && isDir(r.Layout) {
		return false, fmt.Sprintf("%s is an existing directory, used as the layout; for the registry, use oci-pack push or pull, or move the directory", r.Layout)
	}
	return true, ""
}

// refUse says how a command uses a reference, for the hint when it looks
// like a registry's.
type refUse int

const (
	readRef  refUse = iota // an existing layout is read
	writeRef               // the layout is written, created if missing
)

// parseRef parses a LAYOUT[:TAG|@DIGEST] argument by layout.ParseRef and
// the rules above. Errors are usage errors.
func parseRef(arg string, use refUse) (layout.Ref, error) {
	if err := checkAmbiguous(arg); err != nil {
		return layout.Ref{}, err
	}
	r, err := layout.ParseRef(arg)
	if err == nil && exists(r.Layout) {
		return r, nil
	}
	if prefix, meant := transportOf(arg); prefix != "" {
		return r, usagef("%q is %s, not a layout directory; %s", arg, meant, transportHint(arg, prefix, use))
	}
	if registry.IsReference(arg) {
		return r, usagef("%q looks like a registry reference, not a layout directory; %s", arg, registryRefHint(arg, use, true))
	}
	if err != nil {
		return r, usagef("%v", err)
	}
	return r, nil
}

// parseLayout parses an argument that names a whole layout (ls, gc,
// import's destination): a tag or digest there is a usage error.
func parseLayout(arg string, use refUse) (string, error) {
	r, err := parseRef(arg, use)
	if err != nil {
		return "", err
	}
	if r.Tag != "" || r.Digest != "" {
		return "", usagef("%q names an artifact; this argument is a whole layout: give the directory %s", arg, r.Layout)
	}
	return r.Layout, nil
}

// parseArtifact parses a LAYOUT:TAG or LAYOUT@DIGEST argument; needTag
// refuses a digest (what pack, index and untag name must be a tag).
func parseArtifact(arg string, use refUse, needTag bool) (layout.Ref, error) {
	r, err := parseRef(arg, use)
	if err != nil {
		return r, err
	}
	switch {
	case needTag && r.Tag == "":
		return r, usagef("want LAYOUT:TAG, got %q", arg)
	case r.Tag == "" && r.Digest == "":
		return r, usagef("want LAYOUT:TAG or LAYOUT@DIGEST, got %q", arg)
	}
	return r, nil
}

// registryRefHint says what to type for a registry reference; local adds
// how to name a new local directory that looks like one.
func registryRefHint(ref string, use refUse, local bool) string {
	_, hasPush := commands["push"]
	if use == readRef {
		if hasPush {
			return fmt.Sprintf("to fetch it into a local layout, use `oci-pack pull %s LAYOUT:TAG`", ref)
		}
		return fmt.Sprintf("oci-pack reads local layouts: fetch it into one first, e.g. `skopeo copy docker://%s oci:LAYOUT:TAG`", ref)
	}
	hint := fmt.Sprintf("oci-pack writes local layouts (LAYOUT:TAG); load one into the registry with `skopeo copy oci:LAYOUT:TAG docker://%s` or `oras cp --from-oci-layout LAYOUT:TAG %s`", ref, ref)
	if hasPush {
		hint = fmt.Sprintf("to push, use `oci-pack push LAYOUT:TAG %s`", ref)
	}
	if first, _, _ := strings.Cut(ref, "/"); local && !strings.Contains(first, ":") {
		hint += fmt.Sprintf("; for a new local directory of that name, write ./%s", ref)
	}
	return hint
}

// transportHint says what to type for a reference with a transport prefix.
func transportHint(ref, prefix string, use refUse) string {
	rest := strings.TrimPrefix(ref, prefix)
	switch prefix {
	case "oci:", "ocidir://", "oci-layout://":
		return fmt.Sprintf("oci-pack takes the layout directory without a prefix: %s", rest)
	case "oci-archive:", "docker-archive:":
		file, _, _ := strings.Cut(rest, ":")
		if use == writeRef {
			return fmt.Sprintf("write archives with `oci-pack export LAYOUT:TAG -o %s`", file)
		}
		return fmt.Sprintf("read archives with `oci-pack import %s LAYOUT`", file)
	case "docker://":
		return registryRefHint(rest, use, false)
	}
	return "oci-pack takes a layout directory: LAYOUT[:TAG|@DIGEST]"
}

// checkAmbiguous refuses x:y:z when more than one of the prefixes before
// a ":" (x, x:y) is an existing directory: which is the layout?
func checkAmbiguous(s string) error {
	if at := strings.LastIndex(s, "@"); at > 0 && strings.Contains(s[at+1:], ":") {
		return nil // a digest reference: the layout is all before the "@"
	}
	if exists(s) {
		return nil // the whole argument is a directory
	}
	var dirs []string
	for i := 1; i < len(s); i++ {
		if s[i] == ':' && isDir(s[:i]) {
			dirs = append(dirs, s[:i])
		}
	}
	if len(dirs) > 1 {
		return usagef("%q is ambiguous: %s and %s are both directories, so the tag could follow either; rename one of them", s, dirs[0], dirs[1])
	}
	return nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// exists reports whether p names anything (a layout, or a file that
// Open will refuse with a clear error).
func exists(p string) bool {
	_, err := os.Lstat(filepath.Clean(p))
	return err == nil
}

// refList is a parsed list of references that all name one layout.
type refList struct {
	dir   string
	refs  []layout.Ref // those with a tag or digest, in order
	whole bool         // a bare LAYOUT was given
}

// parseRefList parses reference arguments that must all name one layout:
// each LAYOUT[:TAG|@DIGEST]; after the first, a bare TAG or DIGEST
// (sha256:…) that is not an existing directory names one of that same
// layout, as tag's and untag's names do (oras and crane take bare tags).
func parseRefList(args []string, use refUse) (refList, error) {
	var rl refList
	for i, a := range args {
		if i > 0 && !exists(a) {
			if r, ok := shortRef(rl.dir, a); ok {
				rl.refs = append(rl.refs, r)
				continue
			}
		}
		r, err := parseRef(a, use)
		if err != nil {
			return rl, err
		}
		if i == 0 {
			rl.dir = r.Layout
		} else if filepath.Clean(r.Layout) != filepath.Clean(rl.dir) {
			return rl, usagef("all references must name the same layout: %q and %q", rl.dir, r.Layout)
		}
		if r.Tag == "" && r.Digest == "" {
			rl.whole = true
		} else {
			rl.refs = append(rl.refs, r)
		}
	}
	return rl, nil
}

// shortRef reads a as a bare TAG, DIGEST or TAG@DIGEST (the digest
// decides) of the layout dir.
func shortRef(dir, a string) (layout.Ref, bool) {
	tag, dgst, pinned := strings.Cut(a, "@")
	if !pinned && (strings.HasPrefix(a, "sha256:") || strings.HasPrefix(a, "sha512:")) {
		tag, dgst, pinned = "", a, true
	}
	if pinned {
		if tag != "" && layout.ValidateTag(tag) != nil {
			return layout.Ref{}, false
		}
		if r, err := layout.ParseRef(dir + "@" + dgst); err == nil && r.Digest != "" {
			return r, true
		}
		return layout.Ref{}, false
	}
	if strings.Contains(a, ":") {
		return layout.Ref{}, false
	}
	if layout.ValidateTag(a) == nil {
		return layout.Ref{Layout: dir, Tag: a}, true
	}
	return layout.Ref{}, false
}
