package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/pack"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "inspect",
		args:    "LAYOUT:REF",
		short:   "show the descriptor tree with sizes, media types, annotations, referrers, and Harbor's view",
		long:    "oci-pack inspect models:llama-3-8b\noci-pack inspect models@sha256:0123… --format json",
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			return runInspect
		},
	})
}

// treeNode is the JSON shape of inspect's output.
type treeNode struct {
	Role       string             `json:"role"`
	Descriptor ocispec.Descriptor `json:"descriptor"`
	Document   *layout.Document   `json:"document,omitempty"`
	Children   []*treeNode        `json:"children,omitempty"`
	Harbor     *pack.HarborView   `json:"harbor,omitempty"`
}

func runInspect(e *env, args []string) error {
	ref, err := layout.ParseRef(args[0])
	if err != nil {
		return usagef("%v", err)
	}
	if ref.Tag == "" && ref.Digest == "" {
		return usagef("inspect needs LAYOUT:TAG or LAYOUT@DIGEST, got %q", args[0])
	}
	l, err := e.open(ref.Layout, layout.ReadOnly, false)
	if err != nil {
		return err
	}
	defer l.Close()
	desc, err := l.Resolve(e.ctx, ref)
	if err != nil {
		return err
	}
	nodes := map[*layout.Node]*treeNode{}
	var root *treeNode
	err = l.Walk(e.ctx, []layout.Node{{Descriptor: desc, Role: ref.Name()}}, layout.WalkOptions{Referrers: true}, func(n *layout.Node) error {
		t := &treeNode{Role: n.Role, Descriptor: n.Descriptor, Document: n.Doc}
		nodes[n] = t
		if n.Parent == nil {
			root = t
		} else if p := nodes[n.Parent]; p != nil {
			p.Children = append(p.Children, t)
		}
		if n.Doc != nil && !n.Doc.IsIndex() {
			hv := harborView(e, l, n.Doc)
			t.Harbor = &hv
		}
		return nil
	})
	if err != nil {
		return err
	}
	if e.json() {
		return e.printJSON(root)
	}
	printTree(e, root, "", true)
	return nil
}

func harborView(e *env, l *layout.Layout, doc *layout.Document) pack.HarborView {
	m := ocispec.Manifest{Config: *doc.Config, Layers: doc.Layers}
	var config []byte
	if doc.Config.Size <= 1<<20 {
		config, _ = l.ReadBlobJSON(e.ctx, *doc.Config)
	}
	return pack.Harbor(m, config)
}

func printTree(e *env, t *treeNode, indent string, last bool) {
	d := t.Descriptor
	line := fmt.Sprintf("%s  %s  %s  %s", t.Role, d.Digest, safe(d.MediaType), humanBytes(d.Size))
	if t.Document != nil && t.Document.ArtifactType != "" {
		line += "  artifactType=" + safe(t.Document.ArtifactType)
	}
	fmt.Fprintln(e.stdout, indent+line)
	child := indent + "  "
	for _, kv := range sortedAnnotations(d.Annotations) {
		fmt.Fprintf(e.stdout, "%s· %s\n", child, kv)
	}
	if t.Document != nil {
		for _, kv := range sortedAnnotations(t.Document.Annotations) {
			fmt.Fprintf(e.stdout, "%s· %s\n", child, kv)
		}
		if t.Document.Subject != nil {
			fmt.Fprintf(e.stdout, "%s· subject %s\n", child, t.Document.Subject.Digest)
		}
	}
	if t.Harbor != nil {
		h := t.Harbor
		meta, _ := json.Marshal(h.Metadata)
		fmt.Fprintf(e.stdout, "%sharbor: type %s", child, safe(h.Type))
		if h.Icon != "" {
			fmt.Fprintf(e.stdout, ", icon %s", h.Icon)
		}
		if h.Metadata != nil {
			fmt.Fprintf(e.stdout, ", metadata %s", meta)
		}
		if len(h.Skipped) > 0 {
			fmt.Fprintf(e.stdout, ", skipped %s", safe(strings.Join(h.Skipped, ",")))
		}
		fmt.Fprintln(e.stdout)
		for _, w := range h.Warnings {
			e.warnf("%s: %s", t.Role, w)
		}
	}
	for i, c := range t.Children {
		printTree(e, c, child, i == len(t.Children)-1)
	}
}

// sortedAnnotations formats a as sorted key="value" lines for a terminal:
// keys through safe, values quoted, values longer than maxShownValue cut
// with their full length given (--format json has them whole).
func sortedAnnotations(a map[string]string) []string {
	out := make([]string, 0, len(a))
	for k, v := range a {
		shown := fmt.Sprintf("%q", v)
		if len(v) > maxShownValue {
			shown = fmt.Sprintf("%q… (%d bytes)", strings.ToValidUTF8(v[:maxShownValue], ""), len(v))
		}
		out = append(out, safe(k)+"="+shown)
	}
	sort.Strings(out)
	return out
}

// maxShownValue bounds an annotation value in inspect's text output.
const maxShownValue = 512
