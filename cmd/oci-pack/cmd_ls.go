package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "ls",
		args:    "LAYOUT",
		short:   "list tags with digest, artifactType, total size and created time",
		long:    "oci-pack ls models\noci-pack ls models --format json",
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			all := fs.Bool("all", false, "also list referrers-tag indexes (sha256-<hex> tags that index a subject's referrers)")
			return func(e *env, args []string) error { return runLs(e, args, *all) }
		},
	})
}

type lsRow struct {
	Tag          string `json:"tag"`
	Digest       string `json:"digest"`
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType,omitempty"`
	Size         int64  `json:"size"`
	Created      string `json:"created,omitempty"`
}

func runLs(e *env, args []string, all bool) error {
	l, err := e.open(args[0], layout.ReadOnly, false)
	if err != nil {
		return err
	}
	defer l.Close()
	idx, err := l.Index(e.ctx)
	if err != nil {
		return err
	}
	rows := []lsRow{}
	for _, t := range layout.Tags(idx) {
		if !all && layout.IsReferrersTag(t.Name) {
			continue
		}
		row := lsRow{Tag: t.Name, Digest: t.Descriptor.Digest.String(), MediaType: t.Descriptor.MediaType, ArtifactType: t.Descriptor.ArtifactType, Size: t.Descriptor.Size}
		if layout.IsDocument(t.Descriptor) {
			doc, err := l.ReadDocument(e.ctx, t.Descriptor)
			if err != nil {
				e.warnf("tag %s: %v", t.Name, err)
			} else {
				row.Size += docSize(doc)
				row.Created = doc.Annotations[ocispec.AnnotationCreated]
				if row.ArtifactType == "" {
					row.ArtifactType = artifactTypeOf(doc)
				}
			}
		}
		rows = append(rows, row)
	}
	if e.json() {
		return e.printJSON(rows)
	}
	tw := e.table()
	fmt.Fprintln(tw, "TAG\tDIGEST\tARTIFACT TYPE\tSIZE\tCREATED")
	for _, r := range rows {
		created := r.Created
		if created == "" {
			created = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Tag, r.Digest, safe(orDash(r.ArtifactType)), humanBytes(r.Size), safe(created))
	}
	return tw.Flush()
}

// docSize is the bytes a document's direct children take (an index's
// manifests count by their own size only).
func docSize(doc *layout.Document) int64 {
	var n int64
	for _, c := range doc.Children() {
		n += c.Size
	}
	return n
}

// artifactTypeOf is the artifact type as the spec defines it: artifactType,
// else the config media type.
func artifactTypeOf(doc *layout.Document) string {
	if doc.ArtifactType != "" {
		return doc.ArtifactType
	}
	if doc.Config != nil {
		return doc.Config.MediaType
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
