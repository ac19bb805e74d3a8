package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/oci-pack/oci-pack/pack/modelcar"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:     "inspect",
		readOnly: true,
		args:     "LAYOUT:REF",
		short:    "show the descriptor tree with sizes, media types, annotations, referrers, and Harbor's view",
		long: `oci-pack inspect models:llama-3-8b
oci-pack inspect models@sha256:0123… --format json
oci-pack inspect models:llama-3-8b --key cosign.pub   # and whether its signatures verify
oci-pack inspect models:llama-3-8b --harbor     # what Harbor would show, and why it might show UNKNOWN
Every descriptor is listed as its manifest lists it; a digest listed again is marked (same as …).`,
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			harbor := fs.Bool("harbor", false, "show Harbor's view of every manifest (type, icon, metadata) and its warnings; shown anyway for artifacts with a Harbor icon or skip-list")
			trust := trustFlags(fs)
			return func(e *env, args []string) error {
				p, err := trust.policy()
				if err != nil {
					return err
				}
				return runInspect(e, args, *harbor, p)
			}
		},
	})
}

// treeNode is the JSON shape of inspect's output (docs/json).
type treeNode struct {
	Role       string             `json:"role"`
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// RepeatOf names the first listing of the same digest ("config",
	// "layer 0 of v1"); that one carries the document and children.
	RepeatOf string           `json:"repeatOf,omitempty"`
	Document *layout.Document `json:"document,omitempty"`
	Children []*treeNode      `json:"children,omitempty"`
	Harbor   *pack.HarborView `json:"harbor,omitempty"`
	// ImageVolume describes the image-volume form (root only).
	ImageVolume *volumeView `json:"imageVolume,omitempty"`
	// Signatures of this manifest or index: form, key hint, and with
	// --key/--trust whether each verifies and by which key.
	Signatures []sign.Info `json:"signatures,omitempty"`
}

// volumeView is inspect's account of an image-volume form.
type volumeView struct {
	Platforms  []ocispec.Platform `json:"platforms"`
	BaseLayers int                `json:"baseLayers"`
	Files      []modelcar.Mirror  `json:"files"`
}

func runInspect(e *env, args []string, harbor bool, p *sign.Policy) error {
	ref, err := parseArtifact(args[0], readRef, false)
	if err != nil {
		return err
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
	tree, err := l.Tree(e.ctx, layout.Node{Descriptor: desc, Role: ref.Name()}, layout.WalkOptions{Referrers: true})
	if err != nil {
		return err
	}
	root := inspectNode(e, l, tree, harbor)
	if root.ImageVolume, err = readVolume(e, l, desc); err != nil {
		return err
	}
	if err := addSignatures(e, l, ref.Tag, root, p); err != nil {
		return err
	}
	if e.json() {
		return e.printJSON(root)
	}
	printTree(e, root, "", true)
	printVolume(e, root.ImageVolume)
	return nil
}

// readVolume describes desc's image-volume form (nil if it is not one).
func readVolume(e *env, l *layout.Layout, desc ocispec.Descriptor) (*volumeView, error) {
	v, err := modelcar.Read(e.ctx, l, desc)
	if err != nil || v == nil {
		return nil, err
	}
	files, err := v.Mirrors(e.ctx, l)
	if err != nil {
		return nil, err
	}
	return &volumeView{Platforms: v.Platforms, BaseLayers: len(v.Base), Files: files}, nil
}

// printVolume prints the platforms of an image-volume form and the raw
// layer each file layer mirrors.
func printVolume(e *env, v *volumeView) {
	if v == nil {
		return
	}
	var plats []string
	for _, p := range v.Platforms {
		if p.OS != "" {
			plats = append(plats, modelcar.PlatformString(p))
		}
	}
	base := ""
	if v.BaseLayers > 0 {
		base = fmt.Sprintf(", on %d base image layer(s)", v.BaseLayers)
	}
	fmt.Fprintf(e.stdout, "image-volume form: %s; %d file layer(s)%s\n", strings.Join(plats, ", "), len(v.Files), base)
	for _, f := range v.Files {
		where := "not in this layout"
		switch {
		case f.SubjectLayer >= 0:
			where = fmt.Sprintf("layer %d of the subject", f.SubjectLayer)
		case f.RawStored:
			where = "stored"
		}
		fmt.Fprintf(e.stdout, "  %s  %s  mirrors raw %s (%s)\n", safe(f.Title), f.Layer.Digest, f.Digest, where)
	}
}

// addSignatures fills in the signatures of every manifest or index in the
// tree that has a signature referrer or a legacy .sig tag, checked under p
// (the root's against the keys p trusts for tag), and warns when the tree
// holds signatures some registry loaders drop.
func addSignatures(e *env, l *layout.Layout, tag string, root *treeNode, p *sign.Policy) error {
	idx, err := l.Index(e.ctx)
	if err != nil {
		return err
	}
	n, legacy := 0, false
	var visit func(t *treeNode, tag string) error
	visit = func(t *treeNode, tag string) error {
		d := t.Descriptor.Digest
		_, signed := layout.FindTag(idx, layout.LegacySignatureTag(d))
		for _, c := range t.Children {
			signed = signed || c.Role == "referrer" && c.Descriptor.ArtifactType == layout.MediaTypeSigstoreBundle
		}
		if t.Document != nil && signed {
			if t.Signatures, err = sign.Describe(e.ctx, l, tag, d, p); err != nil {
				return err
			}
			for _, s := range t.Signatures {
				n++
				legacy = legacy || s.Form == sign.FormLegacy
			}
		}
		for _, c := range t.Children {
			if err := visit(c, ""); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(root, tag); err != nil {
		return err
	}
	if n > 0 {
		warnLoaders(e, root.Role, n, legacy)
	}
	return nil
}

// inspectNode converts the layout's tree, adding Harbor's view of each
// manifest when asked for or when the artifact targets Harbor.
func inspectNode(e *env, l *layout.Layout, t *layout.TreeNode, harbor bool) *treeNode {
	n := &treeNode{Role: t.Role, Descriptor: t.Descriptor, RepeatOf: t.RepeatOf, Document: t.Doc}
	if t.Doc != nil && !t.Doc.IsIndex() && (harbor || pack.TargetsHarbor(t.Doc.Config, t.Doc.Layers)) {
		hv := harborView(e, l, t.Doc)
		n.Harbor = &hv
	}
	for _, c := range t.Children {
		n.Children = append(n.Children, inspectNode(e, l, c, harbor))
	}
	return n
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
	if t.RepeatOf != "" {
		line += "  (same as " + safe(t.RepeatOf) + ")"
	}
	fmt.Fprintln(e.stdout, indent+line)
	child := indent + "  "
	for _, kv := range sortedAnnotations(d.Annotations) {
		fmt.Fprintf(e.stdout, "%s· %s\n", child, kv)
	}
	if t.Document != nil {
		// A referrer's descriptor repeats its manifest's annotations
		// (image-spec): print each pair once.
		own := map[string]string{}
		for k, v := range t.Document.Annotations {
			if dv, ok := d.Annotations[k]; !ok || dv != v {
				own[k] = v
			}
		}
		for _, kv := range sortedAnnotations(own) {
			fmt.Fprintf(e.stdout, "%s· %s\n", child, kv)
		}
		if t.Document.Subject != nil {
			fmt.Fprintf(e.stdout, "%s· subject %s\n", child, t.Document.Subject.Digest)
		}
		if ex := t.Document.Annotations[pack.AnnotationExclude]; ex != "" {
			var dirs map[string][]string
			if json.Unmarshal([]byte(ex), &dirs) == nil {
				for _, d := range sortedKeys(dirs) {
					fmt.Fprintf(e.stdout, "%sexcluded from %s: %s\n", child, safe(d), safe(strings.Join(dirs[d], ", ")))
				}
			}
		}
	}
	for _, s := range t.Signatures {
		fmt.Fprintf(e.stdout, "%s· %s\n", child, signatureLine(s))
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// maxShownValue bounds an annotation value in inspect's text output.
const maxShownValue = 512
