package main

import (
	"errors"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack/extract"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "extract",
		args:  "LAYOUT:REF -o DIR",
		short: "write an artifact's files back out, byte-identical, confined to DIR",
		long: `oci-pack extract models:llama-3-8b -o /models/llama
oci-pack extract models@sha256:… -o out --include '*.safetensors' --include tokenizer
oci-pack extract bundles:v1 -o out            # an index: one subdirectory per member
oci-pack extract images:alpine -o rootfs      # a container image: its root filesystem
oci-pack extract models:v2 -o out --overwrite # replace files already in out
Raw-file layers are written under their title; directory (tar) layers are unpacked.
Nothing is written under a final name until every blob verified and every name passed.
Exit codes: 3 for corrupt or hostile content (digest mismatch, a name or link leaving DIR),
4 when a target already exists in DIR (without --overwrite; nothing is written then).`,
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			dir := fs.StringP("output", "o", "", "directory to write into (created if missing; required)")
			include := fs.StringArray("include", nil, "only write names (titles, tar entry paths) matching this glob, or below a matching directory (repeatable)")
			overwrite := fs.Bool("overwrite", false, "replace existing files and symlinks in DIR (the link itself, never its target)")
			maxBytes := &sizeFlag{words: map[string]int64{"-1": -1, "none": -1}}
			fs.Var(maxBytes, "max-bytes", "stop after writing SIZE bytes, decompressed: 10GiB, 500MiB, 4G, 1000000 (default: the free space of DIR's file system; -1 or none: no limit)")
			return func(e *env, args []string) error {
				ref, err := parseArtifact(args[0], readRef, false)
				if err != nil {
					return err
				}
				if *dir == "" {
					return usagef("extract needs -o DIR")
				}
				return runExtract(e, ref, extract.Options{
					Dir: *dir, Include: *include, Overwrite: *overwrite, MaxBytes: maxBytes.n, Jobs: e.g.jobs,
					Info: func(s string) { e.infof("%s", s) },
					Warn: func(s string) { e.warnf("%s", s) },
				})
			}
		},
	})
}

func runExtract(e *env, ref layout.Ref, o extract.Options) error {
	l, err := e.open(ref.Layout, layout.ReadOnly, false)
	if err != nil {
		return err
	}
	defer l.Close()
	desc, err := l.Resolve(e.ctx, ref)
	if err != nil {
		return err
	}
	prog, wait := e.progress()
	o.Progress = prog
	res, err := extract.Extract(e.ctx, l, desc, o)
	wait()
	switch {
	case errors.Is(err, extract.ErrUnsafe):
		return classified{err, errIntegrity}
	case errors.Is(err, extract.ErrExists):
		return classified{err, errConflict}
	case err != nil:
		return err
	}
	e.infof("extracted %s to %s: %d file(s), %s", ref, o.Dir, len(res.Files), humanBytes(res.Bytes))
	if len(o.Include) > 0 && len(res.Files) == 0 {
		e.warnf("no name in %s matches --include %s", ref, strings.Join(o.Include, ", "))
	}
	if e.json() {
		files := res.Files
		if files == nil {
			files = []extract.File{}
		}
		return e.printJSON(map[string]any{
			"reference": ref.String(),
			"digest":    desc.Digest,
			"directory": o.Dir,
			"files":     files,
			"bytes":     res.Bytes,
		})
	}
	return nil
}

// classified gives err an exit-code class without changing its message.
type classified struct{ err, class error }

func (c classified) Error() string   { return c.err.Error() }
func (c classified) Unwrap() []error { return []error{c.err, c.class} }
