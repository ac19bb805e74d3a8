package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/archive"
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
ssh connected oci-pack export models:v1 -o - | oci-pack import - offline`,
		minArgs: 2, maxArgs: -1,
		conflictHint: "use --tag-conflict overwrite to move it, or skip to keep it",
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			conflict := fs.String("tag-conflict", "fail", "when a tag exists on another digest: fail (exit 4, nothing changes), skip (keep it) or overwrite (move it)")
			maxBytes := fs.String("max-bytes", "", "stop once the decompressed archive exceeds SIZE, not counting blobs already held (default: free space minus 64MiB)")
			return func(e *env, args []string) error {
				files, dir := args[:len(args)-1], args[len(args)-1]
				policy, err := layout.ParseConflict(*conflict)
				if err != nil {
					return usagef("--tag-conflict: %v", err)
				}
				o := archive.ImportOptions{Conflict: policy}
				if *maxBytes != "" {
					if o.MaxBytes, err = parseSize(*maxBytes); err != nil || o.MaxBytes == 0 {
						return usagef("--max-bytes %q: want a size like 100GiB", *maxBytes)
					}
				}
				if len(files) == 1 && files[0] == "-" {
					return importFrom(e, dir, []archive.Source{{R: os.Stdin}}, nil, o)
				}
				for _, f := range files {
					if f == "-" {
						return usagef("- (stdin) must be the only input")
					}
				}
				if err := distinctFiles(files); err != nil {
					return err
				}
				var srcs []archive.Source
				var sets []*archive.VolumeReader
				defer func() {
					for _, v := range sets {
						v.Close()
					}
				}()
				for _, group := range archive.GroupArchives(files) {
					vols, err := archive.OpenVolumes(group)
					if err != nil {
						return err
					}
					sets = append(sets, vols)
					if vols.Sidecar() == "" {
						e.infof("no %s beside %s: relying on the archive's structure and blob digests", group[0]+archive.SidecarSuffix, group[0])
					}
					srcs = append(srcs, archive.Source{Name: group[0], R: vols, Size: vols.Size(), Verify: vols.Finish})
				}
				var only *archive.VolumeReader
				if len(sets) == 1 {
					only = sets[0]
					srcs[0].Name = ""
				}
				return importFrom(e, dir, srcs, only, o)
			}
		},
	})
}

// distinctFiles refuses a file given twice (by another name, too): the
// second copy would add nothing, so it is a slip of the command line.
func distinctFiles(files []string) error {
	var seen []os.FileInfo
	for i, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			continue // opening it reports the error
		}
		for j, prev := range seen {
			if prev != nil && os.SameFile(prev, fi) {
				return usagef("%s and %s are the same file: give each archive once", files[j], files[i])
			}
		}
		seen = append(seen, fi)
	}
	return nil
}

// importFrom imports srcs into the layout dir (created if missing) and
// reports what changed. vols is the one volume set read, if there is
// exactly one, for a better error when its sidecar disagrees.
func importFrom(e *env, dir string, srcs []archive.Source, vols *archive.VolumeReader, o archive.ImportOptions) error {
	l, err := e.open(dir, layout.ReadWrite, true)
	if err != nil {
		return err
	}
	defer l.Close()
	prog, wait := e.progress()
	o.Progress = prog
	res, err := archive.ImportAll(e.ctx, l, srcs, o)
	wait()
	if err != nil {
		return importError(err, vols)
	}
	return reportImport(e, dir, res)
}

// importError puts a damaged volume first: when the sidecar shows a
// volume truncated or corrupted, that is the cause, whatever the tar
// reader tripped over.
func importError(err error, vols *archive.VolumeReader) error {
	if vols == nil || vols.Sidecar() == "" || errors.Is(err, archive.ErrChecksum) {
		return err
	}
	if cerr := vols.Finish(); errors.Is(cerr, archive.ErrChecksum) {
		return fmt.Errorf("%w (the import stopped with: %v)", cerr, err)
	}
	return err
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
	e.infof("imported %d blob(s), %s; reused %d blob(s), %s, already in %s", res.Imported, humanBytes(res.ImportedBytes), res.Reused, humanBytes(res.ReusedBytes), dir)
	if len(tags) > 0 {
		e.infof("tags: %s", strings.Join(tags, ", "))
	}
	if res.Untagged > 0 {
		e.infof("added %d untagged index entr%s (referrers)", res.Untagged, plural(res.Untagged, "y", "ies"))
	}
	if e.json() {
		return e.printJSON(map[string]any{
			"layout": dir, "compression": res.Compression,
			"imported": res.Imported, "importedBytes": res.ImportedBytes,
			"reused": res.Reused, "reusedBytes": res.ReusedBytes,
			"tags": changes, "untagged": res.Untagged,
		})
	}
	return nil
}
