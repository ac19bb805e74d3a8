package layout

import (
	"context"

	"github.com/opencontainers/go-digest"
)

// TreeNode is one descriptor as a document lists it.
type TreeNode struct {
	Node
	// RepeatOf is the path (Node.Path) of the first listing of the same
	// digest in the tree; "" at that first listing. A repeat has no Doc
	// and no children: they are shown once, at the first.
	RepeatOf string
	Children []*TreeNode
}

// Tree returns the descriptor tree of root: every descriptor as its
// manifest or index lists it, in order — a digest listed twice (two
// layers sharing bytes, an empty artifact whose layer is its config) is
// listed twice, the later one marked RepeatOf — and, with o.Referrers, the
// referrers of each manifest after its children. It reads what Walk reads.
func (l *Layout) Tree(ctx context.Context, root Node, o WalkOptions) (*TreeNode, error) {
	var top *TreeNode
	nodes := map[*Node]*TreeNode{}
	first := map[digest.Digest]*TreeNode{}
	err := l.Walk(ctx, []Node{root}, o, func(n *Node) error {
		t := &TreeNode{Node: *n}
		if p := nodes[n.Parent]; p != nil {
			// Fill the placeholder the parent made for this child, if it
			// is one of the parent's own children (not a referrer).
			found := false
			for _, c := range p.Children {
				if c.Role == n.Role && c.Descriptor.Digest == n.Descriptor.Digest {
					if c.RepeatOf != "" {
						// Walk met this listing first (deeper in an
						// earlier branch): it is the first now.
						first[n.Descriptor.Digest].RepeatOf = c.Path()
						c.RepeatOf = ""
					}
					c.Node, t, found = *n, c, true
					break
				}
			}
			if !found {
				p.Children = append(p.Children, t)
			}
		} else if top == nil {
			top = t
		}
		nodes[n] = t
		first[n.Descriptor.Digest] = t
		if n.Doc != nil {
			for i, c := range n.Doc.Children() {
				ct := &TreeNode{Node: Node{Descriptor: c, Parent: n, Role: ChildRole(n.Doc, i)}}
				if f, seen := first[c.Digest]; seen {
					ct.RepeatOf = f.Path()
				} else {
					first[c.Digest] = ct
				}
				t.Children = append(t.Children, ct)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return top, nil
}
