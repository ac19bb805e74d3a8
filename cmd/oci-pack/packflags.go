package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/spf13/pflag"
)

// packFlags are the flags shared by pack and attach.
type packFlags struct {
	artifactType   string
	config         string
	annotations    []string
	annotationFile string
	compression    string
	level          int
	mtime          string
	created        string
	icon           string
	skipList       []string
	preset         string
	noCache        bool
	allowOutside   bool
	preserveMode   bool
	exclude        []string
}

func (f *packFlags) apply(fs *pflag.FlagSet) {
	fs.StringVar(&f.artifactType, "artifact-type", "", "the manifest's artifactType (required unless --config or --preset gives a type)")
	fs.StringVar(&f.config, "config", "", "config file, as FILE[:MEDIATYPE] (default: the empty descriptor)")
	fs.StringArrayVarP(&f.annotations, "annotation", "a", nil, "manifest annotation KEY=VALUE (repeatable)")
	fs.StringVar(&f.annotationFile, "annotation-file", "", `JSON file of annotations in oras's shape: {"$manifest":{…},"$config":{…},"<title>":{…}}`)
	fs.StringVar(&f.compression, "compression", "auto", "layer compression: auto, none, gzip or zstd (auto: directories gzip where it pays, files raw)")
	fs.IntVar(&f.level, "level", 0, "compression level (zstd 1..22, default 3; gzip 1..9, default 6, or -2 for Huffman-only)")
	fs.StringVar(&f.mtime, "mtime", "", "mtime of tar entries, RFC 3339 or Unix seconds (default: SOURCE_DATE_EPOCH, else 0)")
	fs.StringVar(&f.created, "created", "", `record org.opencontainers.image.created: RFC 3339, Unix seconds or "now" (default: SOURCE_DATE_EPOCH if set, else none)`)
	fs.StringVar(&f.icon, "icon", "", "Harbor icon: PNG, GIF or JPEG of at most 1 MiB, added as a layer")
	fs.StringSliceVar(&f.skipList, "skip-list", nil, "Harbor skip-list: config keys Harbor should not display (comma-separated)")
	fs.BoolVar(&f.noCache, "no-cache", false, "re-read every input instead of reusing digests of unchanged files from the layout's stat cache")
	fs.BoolVar(&f.allowOutside, "allow-outside", false, "let --preset modelpack follow symlinks that lead outside the packed directory (a Hugging Face snapshot's links into its repository's blobs/ are always followed)")
	fs.StringArrayVar(&f.exclude, "exclude", nil, "leave out paths of directory inputs matching this pattern, in .gitignore syntax (repeatable; added to each directory's "+pack.IgnoreFile+")")
	fs.BoolVar(&f.preserveMode, "preserve-mode", false, "keep files' permission bits in tar layers as they are (default: 0644, or 0755 for directories and executables, as git does, so the digest does not depend on the umask)")
	fs.StringVar(&f.preset, "preset", "", "fill media types and config for a known artifact type: "+strings.Join(pack.Presets(), ", "))
}

// options turns the flags into pack.Options.
func (f *packFlags) options(e *env) (pack.Options, error) {
	o := pack.Options{
		ArtifactType: f.artifactType,

		Level:        f.level,
		Jobs:         e.g.jobs,
		Icon:         f.icon,
		SkipList:     f.skipList,
		NoCache:      f.noCache,
		AllowOutside: f.allowOutside,
		PreserveMode: f.preserveMode,
		Exclude:      f.exclude,
		Warn:         func(s string) { e.warnf("%s", safe(s)) },
	}
	if f.config != "" {
		o.ConfigPath, o.ConfigMediaType = splitMediaType(f.config)
	}
	if f.compression != "auto" {
		alg, err := compress.Parse(f.compression)
		if err != nil {
			return o, usagef("--compression: %v", err)
		}
		o.Compression = alg
	}
	if f.preset != "" {
		pre, err := pack.LookupPreset(f.preset)
		if err != nil {
			return o, err
		}
		o.Preset = pre
	}
	if f.annotationFile != "" {
		ann, err := pack.LoadAnnotationFile(f.annotationFile)
		if err != nil {
			return o, err
		}
		o.FileAnnotations = ann
	}
	ann, err := parseAnnotations(f.annotations)
	if err != nil {
		return o, err
	}
	o.Annotations = ann
	epoch, hasEpoch, err := sourceDateEpoch()
	if err != nil {
		return o, err
	}
	switch {
	case f.mtime != "":
		if o.MTime, err = parseTime(f.mtime); err != nil {
			return o, usagef("--mtime: %v", err)
		}
	case hasEpoch:
		o.MTime = epoch
	default:
		o.MTime = time.Unix(0, 0)
	}
	switch {
	case f.created == "now":
		now := time.Now().UTC().Truncate(time.Second)
		o.Created = &now
	case f.created != "":
		t, err := parseTime(f.created)
		if err != nil {
			return o, usagef("--created: %v", err)
		}
		o.Created = &t
	case hasEpoch:
		o.Created = &epoch
	}
	return o, nil
}

func sourceDateEpoch() (time.Time, bool, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false, usagef("SOURCE_DATE_EPOCH=%q: want Unix seconds", s)
	}
	return time.Unix(n, 0).UTC(), true, nil
}

func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
	}
	return t.UTC(), nil
}

// splitMediaType splits PATH[:MEDIATYPE]. An argument naming an existing
// path is taken whole; otherwise the part after the last ":" is a media
// type if it contains "/".
func splitMediaType(arg string) (string, string) {
	if _, err := os.Lstat(arg); err == nil {
		return arg, ""
	}
	i := strings.LastIndex(arg, ":")
	if i <= 0 || !strings.Contains(arg[i+1:], "/") {
		return arg, ""
	}
	return arg[:i], arg[i+1:]
}

// inputs parses PATH[:MEDIATYPE] arguments. An argument naming no file
// whose part before the last ":" does is a mistyped media type: the
// error says which part failed.
func inputs(args []string) ([]pack.Input, error) {
	out := make([]pack.Input, 0, len(args))
	for _, a := range args {
		p, mt := splitMediaType(a)
		if mt == "" {
			if i := strings.LastIndex(a, ":"); i > 0 && !exists(a) && exists(a[:i]) {
				return nil, usagef("%q: the path %s exists, but %q after the last ':' is not a media type (want type/subtype, such as application/vnd.acme.weights.v1)", a, a[:i], a[i+1:])
			}
		}
		out = append(out, pack.Input{Path: p, MediaType: mt})
	}
	return out, nil
}

// parseAnnotations parses KEY=VALUE flags.
func parseAnnotations(kvs []string) (map[string]string, error) {
	var out map[string]string
	for _, a := range kvs {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("--annotation %q: want KEY=VALUE", a)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out, nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
