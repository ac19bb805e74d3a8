package main

import (
	"fmt"
	"sort"

	"github.com/oci-pack/oci-pack/layout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
)

func init() {
	register(&command{
		name:     "ls",
		readOnly: true,
		args:     "LAYOUT",
		short:    "list tags, sorted, with digest, artifactType, total size (what the tag reaches, an index's members included) and created time",
		long:     "oci-pack ls models\noci-pack ls models --format json",
		minArgs:  1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			all := fs.Bool("all", false, "also list referrers-tag indexes (sha256-<hex> tags that index a subject's referrers)")
			return func(e *env, args []string) error { return runLs(e, args, *all) }
		},
	})
}

// lsRow is one line of ls; Size is the bytes of the distinct blobs the
// tag reaches (its manifest or index, and everything that lists).
type lsRow struct {
	Tag          string `json:"tag"`
	Digest       string `json:"digest"`
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType,omitempty"`
	Size         int64  `json:"size"`
	Created      string `json:"created,omitempty"`
}

func runLs(e *env, args []string, all bool) error {
	dir, err := parseLayout(args[0], readRef)
	if err != nil {
		return err
	}
	l, err := e.open(dir, layout.ReadOnly, false)
	if err != nil {
		return err
	}
	defer l.Close()
	idx, err := l.Index(e.ctx)
	if err != nil {
		return err
	}
	var tags []layout.Tag
	for _, t := range layout.Tags(idx) {
		if all || !layout.IsReferrersTag(t.Name) {
			tags = append(tags, t)
		}
	}
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	// Each row walks its graph (documents verified); rows are filled in
	// parallel and printed sorted by tag.
	rows := make([]lsRow, len(tags))
	warnings := make([]error, len(tags))
	g := new(errgroup.Group)
	g.SetLimit(e.g.jobs)
	for i, t := range tags {
		g.Go(func() error {
			rows[i], warnings[i] = lsRowOf(e, l, t)
			return nil
		})
	}
	g.Wait()
	for i, w := range warnings {
		if w != nil {
			e.warnf("tag %s: %v", tags[i].Name, w)
		}
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

// lsRowOf describes one tag; an unreadable manifest still gives a row,
// with the error to warn about.
func lsRowOf(e *env, l *layout.Layout, t layout.Tag) (lsRow, error) {
	row := lsRow{Tag: t.Name, Digest: t.Descriptor.Digest.String(), MediaType: t.Descriptor.MediaType, ArtifactType: t.Descriptor.ArtifactType, Size: t.Descriptor.Size}
	if !layout.IsDocument(t.Descriptor) {
		return row, nil
	}
	var doc *layout.Document
	row.Size = 0
	err := l.Walk(e.ctx, []layout.Node{{Descriptor: t.Descriptor, Role: t.Name}}, layout.WalkOptions{}, func(n *layout.Node) error {
		if n.Parent == nil {
			doc = n.Doc
		}
		row.Size += n.Descriptor.Size
		return nil
	})
	if err != nil {
		row.Size = t.Descriptor.Size
		return row, err
	}
	row.Created = doc.Annotations[ocispec.AnnotationCreated]
	if row.ArtifactType == "" {
		row.ArtifactType = artifactTypeOf(doc)
	}
	return row, nil
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
