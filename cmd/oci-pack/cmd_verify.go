package main

import (
	"fmt"
	"os"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/archive"
	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "verify",
		args:  "LAYOUT[:TAG|@DIGEST]...",
		short: "check the layout: strict, schema-valid JSON; every reachable blob present with the right size and digest; tags valid",
		long: `oci-pack verify models
oci-pack verify models:llama-3-8b        # one tag's graph, with referrers
oci-pack verify models:v1 models@sha256:0123…
oci-pack verify models --fast            # skip re-hashing blobs over 1 MiB
oci-pack verify models:llama-3-8b --key cosign.pub            # and its signature (exit 3 if none verifies)
oci-pack verify models --trust trust.json                     # every tag, each against the keys its rule names
oci-pack verify offline --repair /media/usb/llama.tar.000     # restore corrupt or missing blobs from an archive
oci-pack verify offline --repair /backup/models               # … or from another layout
A --trust file maps tag globs to keys, the first matching rule wins ('*' any run of characters, '?' one;
a tag no rule matches is trusted to no key; key paths are relative to the file):
  {"version": 1, "keys": {"ml": "keys/ml.pub", "release": "keys/release.pub"},
   "rules": [{"tags": ["llama-*"], "keys": ["ml"]}, {"tags": ["*"], "keys": ["release"]}]}`,
		minArgs: 1, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			fast := fs.Bool("fast", false, "check presence, type and size of large blobs without re-hashing them")
			trust := trustFlags(fs)
			repair := fs.String("repair", "", "restore corrupt or missing blobs from `FROM`, an archive (or its first volume) or another layout; index.json is not changed")
			return func(e *env, args []string) error {
				policy, err := trust.policy()
				if err != nil {
					return err
				}
				refs, err := verifyRefs(e, args)
				if err != nil {
					return err
				}
				dir := refs.dir
				mode := layout.ReadOnly
				if *repair != "" {
					mode = layout.ReadWrite
				}
				l, err := e.openRepair(dir, mode)
				if err != nil {
					return err
				}
				defer l.Close()
				vo := layout.VerifyOptions{Fast: *fast, Jobs: e.g.jobs, Refs: refs.refs}
				prog, wait := e.progress()
				vo.Progress = prog
				var rep *layout.Report
				if *repair != "" {
					rep, err = e.repair(l, *repair, vo)
				} else {
					rep, err = l.Verify(e.ctx, vo)
				}
				wait()
				if err != nil {
					return err
				}
				for _, w := range rep.Warnings {
					e.warnf("%s", w)
				}
				// Signatures are checked on a sound layout only.
				var sigs *sign.Report
				if policy != nil && rep.Err() == nil {
					if sigs, err = sign.Verify(e.ctx, l, refs.refs, policy); err != nil {
						return err
					}
				}
				if e.json() {
					out := map[string]any{"blobs": rep.Blobs, "bytesHashed": rep.Bytes, "problems": nonNil(rep.Problems), "warnings": nonNil(rep.Warnings), "ok": len(rep.Problems) == 0}
					if sigs != nil {
						out["signatures"] = sigs
						out["ok"] = sigs.Err() == nil && len(rep.Problems) == 0
					}
					if err := e.printJSON(out); err != nil {
						return err
					}
				} else {
					for _, p := range rep.Problems {
						fmt.Fprintln(e.stderr, p.String())
					}
				}
				if err := rep.Err(); err != nil {
					// rep.Err's class: corrupt (3), or a blob that could
					// not be read at all (1, the environment's failure).
					return classified{fmt.Errorf("%s: %d problem(s) found", dir, len(rep.Problems)), err}
				}
				if !e.json() {
					fmt.Fprintf(e.stdout, "ok: %d blobs, %s re-hashed\n", rep.Blobs, humanBytes(rep.Bytes))
				}
				if sigs == nil {
					return nil
				}
				if !e.json() {
					printSignatureReport(e, sigs)
				}
				if err := sigs.Err(); err != nil {
					return fmt.Errorf("%s: %w", dir, err)
				}
				return nil
			}
		},
	})
}

// verifyRefs parses verify's arguments: LAYOUT (everything) or
// LAYOUT:TAG|LAYOUT@DIGEST... of one layout. The older spelling, LAYOUT
// followed by REFs, still works, with a deprecation note.
func verifyRefs(e *env, args []string) (refList, error) {
	rl, err := parseRefList(args, readRef)
	if err != nil || !rl.whole || len(rl.refs) == 0 {
		return rl, err
	}
	if r, _ := parseRef(args[0], readRef); r.Tag != "" || r.Digest != "" {
		return rl, usagef("give either LAYOUT (everything) or LAYOUT:REF..., not both")
	}
	e.deprecated(fmt.Sprintf("'verify %s REF'", args[0]), fmt.Sprintf("'verify %s'", rl.refs[0]))
	rl.whole = false
	return rl, nil
}

// repair runs verify --repair FROM: FROM is another layout (a directory)
// or archive files.
func (e *env) repair(l *layout.Layout, from string, vo layout.VerifyOptions) (*layout.Report, error) {
	var src layout.RepairSource
	if fi, err := os.Stat(from); err == nil && fi.IsDir() {
		if self, err := os.Stat(l.Dir()); err == nil && os.SameFile(fi, self) {
			return nil, usagef("--repair %s is the layout being verified: give another layout or an archive", from)
		}
		sl, err := e.open(from, layout.ReadOnly, false)
		if err != nil {
			return nil, err
		}
		defer sl.Close()
		src = layout.LayoutSource{L: sl}
	} else {
		src = archive.RepairSource{Files: []string{from}, Notify: func(s string) { e.infof("%s", s) }}
	}
	res, err := l.Repair(e.ctx, src, vo)
	if err != nil {
		return nil, err
	}
	e.infof("restored %d blob(s) from %s", len(res.Restored), from)
	return res.Report, nil
}
