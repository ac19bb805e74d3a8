package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/archive"
	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/opencontainers/go-digest"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "import",
		args:  "FILE... LAYOUT",
		short: "verify tarballs (oci-pack export, skopeo oci-archive, tar of a layout) and merge them into LAYOUT",
		long: `oci-pack import all.tar offline
oci-pack import /media/usb/llama.tar.000 offline          # finds llama.tar.001, … and checks llama.tar.sha256
oci-pack import llama.tar.000 llama.tar.001 offline
oci-pack import llama.tar mistral.tar.000 offline         # several archives: tags change together, at the end
oci-pack import llama.tar.zst offline                     # gzip/zstd detected by magic bytes
oci-pack import delta.tar offline --tag-conflict overwrite
ssh connected oci-pack export models:v1 -o - | oci-pack import - offline
oci-pack import llama.tar offline --require-signature --key release.pub   # every tag signed by release.pub, or nothing changes`,
		minArgs: 2, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			var cf conflictFlags
			cf.apply(fs)
			maxBytes := fs.String("max-bytes", "", "stop once the decompressed archive exceeds SIZE, not counting blobs already held (default: the free space of LAYOUT's file system minus a reserve of 1/32 of it, at least 1MiB, at most 64MiB)")
			require := fs.Bool("require-signature", false, "refuse the archive, before any tag changes, unless every tag in it is signed by a trusted key (--key or --trust); checked as soon as a signed export's documents arrive")
			trust := trustFlags(fs)
			return func(e *env, args []string) error {
				files := args[:len(args)-1]
				dir, err := parseLayout(args[len(args)-1], writeRef)
				if err != nil {
					return err
				}
				policy, err := cf.resolve(e)
				if err != nil {
					return err
				}
				trusted, err := trust.policy()
				if err != nil {
					return err
				}
				if *require != (trusted != nil) {
					return usagef("--require-signature and --key/--trust go together")
				}
				o := archive.ImportOptions{Conflict: policy, Notify: func(s string) { e.infof("%s", s) }}
				if *maxBytes != "" {
					if o.MaxBytes, err = parseSize(*maxBytes); err != nil || o.MaxBytes == 0 {
						return usagef("--max-bytes %q: want a size like 100GiB", *maxBytes)
					}
				}
				if len(files) == 1 && files[0] == "-" {
					return importFrom(e, dir, o, trusted, func(l *layout.Layout, o archive.ImportOptions) (*archive.ImportResult, error) {
						return archive.Import(e.ctx, l, os.Stdin, o)
					})
				}
				for _, f := range files {
					if f == "-" {
						return usagef("- (stdin) must be the only input")
					}
				}
				// The archives are checked (volume order, sidecars, and a
				// signed transfer's signature) before the layout is opened
				// or created.
				a, err := archive.OpenArchives(files, func(s string) { e.infof("%s", s) })
				if err != nil {
					return err
				}
				defer a.Close()
				if trusted != nil {
					if err := a.CheckTransfers(e.ctx, transferCheck(e, trusted)); err != nil {
						return err
					}
				}
				return importFrom(e, dir, o, trusted, func(l *layout.Layout, o archive.ImportOptions) (*archive.ImportResult, error) {
					return a.Import(e.ctx, l, o)
				})
			}
		},
	})
}

// importFrom opens the layout dir (created if missing), runs the import
// with progress (gated by the trust policy when there is one), and
// reports what changed.
func importFrom(e *env, dir string, o archive.ImportOptions, trust *sign.Policy, run func(*layout.Layout, archive.ImportOptions) (*archive.ImportResult, error)) (err error) {
	l, finish, err := e.openTarget(dir)
	if err != nil {
		return err
	}
	defer func() { finish(err) }()
	if trust != nil {
		g := sign.NewGate(l, trust)
		o.Documents, o.Admit = g.Documents, g.Admit
		o.Transfer = transferCheck(e, trust)
	}
	prog, wait := e.progress()
	o.Progress = prog
	res, err := run(l, o)
	wait()
	if errors.Is(err, archive.ErrNoSpace) {
		return fmt.Errorf("%w; free space there, or give --max-bytes SIZE to set the budget yourself", err)
	}
	if err != nil {
		return err
	}
	return reportImport(e, dir, res)
}

// transferCheck checks a signed transfer's bundle beside each sidecar
// against every key trust names; an archive without a bundle is checked
// tag by tag instead.
func transferCheck(e *env, trust *sign.Policy) archive.TransferCheck {
	return func(ctx context.Context, sidecar string, sd digest.Digest) (digest.Digest, error) {
		if sidecar == "" {
			return "", nil
		}
		idx, k, err := sign.VerifyTransfer(sidecar, sd, trust.AllKeys())
		if errors.Is(err, sign.ErrUnsigned) && !fileExists(sign.TransferBundlePath(sidecar)) {
			e.infof("no signed transfer beside %s: checking each tag's signature", sidecar)
			return "", nil
		}
		if err != nil {
			return "", err
		}
		e.infof("transfer %s signed by %s: volumes and index.json vouched for", sidecar, k.Name)
		return idx, nil
	}
}

func reportImport(e *env, dir string, res *archive.ImportResult) error {
	var tags []string
	changes := make([]map[string]any, 0, len(res.Tags))
	for _, t := range res.Tags {
		changes = append(changes, map[string]any{"tag": t.Name, "old": t.Old, "new": t.New, "skipped": t.Skipped})
		switch {
		case t.Skipped:
			tags = append(tags, fmt.Sprintf("%s (kept at %s)", t.Name, t.Old))
		case t.Old == "":
			tags = append(tags, t.Name+" (new)")
		case t.Old != t.New:
			tags = append(tags, fmt.Sprintf("%s (moved from %s)", t.Name, t.Old))
		default:
			tags = append(tags, t.Name+" (unchanged)")
		}
	}
	if len(res.RebuiltVolumes) > 0 {
		e.warnf("rebuilt from parity for this import: %s; the volumes on disk are unchanged (oci-pack repair restores them)", strings.Join(res.RebuiltVolumes, ", "))
	}
	e.infof("imported %d blob(s), %s; reused %d blob(s), %s, already in %s", res.Imported, humanBytes(res.ImportedBytes), res.Reused, humanBytes(res.ReusedBytes), dir)
	if len(tags) > 0 {
		e.infof("tags: %s", strings.Join(tags, ", "))
	}
	if res.Untagged > 0 {
		e.infof("added %d untagged index entr%s (referrers)", res.Untagged, plural(res.Untagged, "y", "ies"))
	}
	if res.Rebuilt > 0 {
		e.infof("rebuilt %d image-volume tar layer(s), %s, from their raw twins", res.Rebuilt, humanBytes(res.RebuiltBytes))
	}
	if e.json() {
		return e.printJSON(map[string]any{
			"layout": dir, "compression": res.Compression,
			"imported": res.Imported, "importedBytes": res.ImportedBytes,
			"reused": res.Reused, "reusedBytes": res.ReusedBytes,
			"tags": changes, "untagged": res.Untagged,
			"rebuilt": res.Rebuilt, "rebuiltBytes": res.RebuiltBytes, "rebuiltVolumes": nonNil(res.RebuiltVolumes),
		})
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
