package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/oci-pack/oci-pack/compress"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/archive"
	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/opencontainers/go-digest"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "export",
		args:  "LAYOUT[:REF]... -o FILE|-",
		short: "write the layout, or the named refs' graphs with their referrers, as a tarball (index.json last)",
		long: `oci-pack export models -o all.tar
oci-pack export models:llama-3-8b models:mistral-7b -o two.tar
oci-pack export models:llama-3-8b -o /media/usb/llama.tar --split-size 4GiB   # llama.tar.000, .001, … and llama.tar.sha256
oci-pack export models:llama-3-8b -o /media/usb/llama.tar --split-size 4GiB --parity 2   # also llama.tar.par0, .par1: any 2 volumes may be lost
oci-pack export models:llama-3-8b --exclude-from site-receipt.json -o delta.tar
oci-pack export models:llama-3-8b --compression zstd -o llama.tar.zst
oci-pack export models:llama-3-8b -o - | ssh offline oci-pack import - models
oci-pack export models:llama-3-8b -o /media/usb/llama.tar --split-size 4GiB --sign release.key   # + llama.tar.sigstore.json`,
		minArgs: 1, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "archive file (replaced only if a regular file; a symlink is followed to one), a FIFO or character device (streamed to), or - for stdout (required)")
			split := fs.String("split-size", "", "write FILE.000, FILE.001, … of at most SIZE bytes each (4GiB, 100MiB, 4G, 1000000; 4GiB gives volumes of 4 GiB - 1, the FAT32 limit)")
			exclude := fs.String("exclude-from", "", "receipt of the receiving site (oci-pack receipt): leave out the blobs it holds, except manifests and indexes")
			comp := fs.String("compression", "none", "compress the whole archive: none, gzip or zstd")
			level := fs.Int("level", 0, "compression level (zstd 1..22, default 3; gzip 1..9, default 6, or -2 for Huffman-only)")
			allowMissing := fs.Bool("allow-missing", false, "leave out referenced blobs the layout lacks instead of failing")
			signKey := fs.String("sign", "", "sign the transfer with this private key: FILE.sigstore.json vouches for the sidecar (every volume's sha256) and the archive's index.json")
			fullTwins := fs.Bool("full-twins", false, "carry image-volume tar layers whole, not as recipes over their raw twins (for readers other than oci-pack import: skopeo, oras, tar -x)")
			parity := fs.Int("parity", 0, "with --split-size: also write N Reed-Solomon parity volumes FILE.par0 …, computed while streaming; any N volumes (data or parity) may then be lost or damaged (import and repair rebuild them)")
			return func(e *env, args []string) error {
				dir, refs, err := exportRefs(args)
				if err != nil {
					return err
				}
				if *out == "" {
					return usagef("-o FILE or -o - is required")
				}
				alg, err := compress.Parse(*comp)
				if err != nil {
					return usagef("--compression: %v", err)
				}
				if err := alg.CheckLevel(*level); err != nil {
					return usagef("--level: %v", err)
				}
				var splitSize int64
				if *split != "" {
					if splitSize, err = parseSize(*split); err != nil || splitSize == 0 {
						return usagef("--split-size %q: want a size like 4GiB, 100MiB or 4G", *split)
					}
					if *out == "-" {
						return usagef("--split-size needs -o FILE, not stdout")
					}
				}
				if *parity != 0 && (*split == "" || *parity < 0 || *parity > archive.MaxParity) {
					return usagef("--parity %d: needs --split-size and 1..%d", *parity, archive.MaxParity)
				}
				if *out == "-" && e.json() {
					return usagef("--format json needs -o FILE: stdout carries the archive")
				}
				if *out == "-" && *signKey != "" {
					return usagef("--sign needs -o FILE: the signature covers FILE's sidecar")
				}
				var signer *sign.Signer
				if *signKey != "" {
					if signer, err = sign.LoadSigner(*signKey, keyPassword(e)); err != nil {
						return err
					}
				}
				o := archive.ExportOptions{Refs: refs, AllowMissing: *allowMissing, Compression: alg, Level: *level, Jobs: e.g.jobs, FullTwins: *fullTwins, Signed: signer != nil, Parity: *parity, Notify: func(s string) { e.infof("%s", s) }}
				if *exclude != "" {
					if o.Exclude, err = archive.LoadReceipt(*exclude); err != nil {
						return err
					}
				}
				l, err := e.open(dir, layout.ReadOnly, false)
				if err != nil {
					return err
				}
				defer l.Close()
				return runExport(e, l, *out, splitSize, o, signer)
			}
		},
	})
}

// exportRefs splits the arguments into the layout and the refs to export
// (none: the whole layout). All must name the same layout.
func exportRefs(args []string) (string, []layout.Ref, error) {
	var dir string
	var refs []layout.Ref
	whole := false
	for _, a := range args {
		r, err := parseRef(a, readRef)
		if err != nil {
			return "", nil, err
		}
		if dir == "" {
			dir = r.Layout
		} else if filepath.Clean(r.Layout) != filepath.Clean(dir) {
			return "", nil, usagef("all references must name the same layout: %q and %q", dir, r.Layout)
		}
		if r.Tag == "" && r.Digest == "" {
			whole = true
		} else {
			refs = append(refs, r)
		}
	}
	if whole && len(refs) > 0 {
		return "", nil, usagef("give either LAYOUT (everything) or LAYOUT:REF..., not both")
	}
	return dir, refs, nil
}

// runExport writes the archive to out ("-": stdout) and reports it.
func runExport(e *env, l *layout.Layout, out string, split int64, o archive.ExportOptions, signer *sign.Signer) error {
	prog, wait := e.progress()
	o.Progress = prog
	var res *archive.ExportResult
	var vols []archive.Volume
	var err error
	if out == "-" {
		if res, err = archive.Export(e.ctx, l, e.stdout, o); err == nil {
			layout.NotifyCommitted(e.ctx) // the whole stream is written
		}
	} else {
		res, vols, err = archive.ExportFile(e.ctx, l, out, split, o)
	}
	wait()
	if errors.Is(err, archive.ErrTooManyVolumes) {
		return fmt.Errorf("%w: give a larger --split-size", err)
	}
	if err != nil {
		return err
	}
	reportExport(e, res, vols)
	if signer != nil {
		if res.Sidecar == "" {
			return usagef("--sign: %s got no sidecar file to sign (a stream)", out)
		}
		path, err := signTransfer(e, signer, res.Sidecar, res.Index)
		if err != nil {
			return err
		}
		e.infof("transfer signed with key %s: %s", signer.Hint(), path)
	}
	if e.json() {
		return e.printJSON(map[string]any{
			"output": out, "volumes": nonNil(vols), "sidecar": res.Sidecar, "entries": res.Entries,
			"blobs": res.Blobs, "blobBytes": res.BlobBytes, "excluded": res.Excluded, "excludedBytes": res.ExcludedBytes,
			"missing": nonNil(res.Missing), "tarBytes": res.TarBytes, "compression": res.Compression,
			"twins": res.Twins, "twinBytes": res.TwinBytes, "parity": nonNil(res.Parity), "kept": res.Kept,
		})
	}
	return nil
}

func reportExport(e *env, res *archive.ExportResult, vols []archive.Volume) {
	for _, d := range res.Missing {
		e.warnf("left out missing blob %s (--allow-missing)", d)
	}
	if res.Excluded > 0 {
		e.infof("left out %d blob(s), %s, that the receipt lists", res.Excluded, humanBytes(res.ExcludedBytes))
	}
	if res.Twins > 0 {
		e.infof("carried %d image-volume tar layer(s), %s, as recipes over their raw twins (oci-pack import rebuilds them; --full-twins for other readers)", res.Twins, humanBytes(res.TwinBytes))
	}
	where := "stdout"
	if len(vols) == 1 {
		where = vols[0].Path
	} else if len(vols) > 1 {
		where = archive.VolumeSpan(vols, "volume")
	}
	comp := ""
	if res.Compression != compress.None {
		comp = ", " + string(res.Compression) + "-compressed"
	}
	e.infof("exported %d index entr%s, %d blob(s), %s (tar %s%s) to %s", res.Entries, plural(res.Entries, "y", "ies"), res.Blobs, humanBytes(res.BlobBytes), humanBytes(res.TarBytes), comp, where)
	if n := len(res.Parity); n > 0 {
		e.infof("%s: any %d volume%s may be lost or damaged (oci-pack repair %s)", archive.VolumeSpan(res.Parity, "parity volume"), n, plural(n, "", "s"), vols[0].Path)
	}
	if res.Sidecar != "" {
		e.infof("checksums in %s (sha256sum -c)", res.Sidecar)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// signTransfer signs the sidecar an export wrote and the archive's
// index.json, and writes the bundle beside the sidecar.
func signTransfer(e *env, s *sign.Signer, sidecar string, index digest.Digest) (string, error) {
	b, err := os.ReadFile(sidecar)
	if err != nil {
		return "", err
	}
	bundle, err := sign.SignTransfer(e.ctx, s, filepath.Base(sidecar), digest.FromBytes(b), index)
	if err != nil {
		return "", err
	}
	path := sign.TransferBundlePath(sidecar)
	return path, sign.WriteTransfer(path, bundle)
}
