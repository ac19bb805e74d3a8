package layout

import (
	"context"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/opencontainers/go-digest"
)

// TagUsage is how many bytes one tag's graph references.
type TagUsage struct {
	Tag        string        `json:"tag"`
	Digest     digest.Digest `json:"digest"`
	Referenced int64         `json:"referenced"` // bytes of the distinct blobs the tag reaches
	Unique     int64         `json:"unique"`     // of those, bytes no other tag reaches
}

// Usage is what dedupe saved.
type Usage struct {
	Tags []TagUsage
	// Stored is the bytes of all blobs on disk; Reachable of those reachable
	// from index.json; SumReferenced the sum over tags of Referenced — what
	// storing every tag separately would cost.
	Stored, Reachable, SumReferenced int64
}

// DiskUsage computes Usage. Blobs missing from a sparse layout count as
// referenced but not stored.
func (l *Layout) DiskUsage(ctx context.Context) (*Usage, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	u := &Usage{}
	owners := map[digest.Digest]int{} // digest → number of tags reaching it
	sizes := map[digest.Digest]int64{}
	perTag := make([]map[digest.Digest]bool, 0)
	for _, t := range Tags(idx) {
		set := map[digest.Digest]bool{}
		err := l.Walk(ctx, []Node{{Descriptor: t.Descriptor, Role: t.Name}}, WalkOptions{}, func(n *Node) error {
			set[n.Descriptor.Digest] = true
			sizes[n.Descriptor.Digest] = n.Descriptor.Size
			return nil
		})
		if err != nil {
			return nil, err
		}
		var ref int64
		for d := range set {
			owners[d]++
			ref += sizes[d]
		}
		u.Tags = append(u.Tags, TagUsage{Tag: t.Name, Digest: t.Descriptor.Digest, Referenced: ref})
		u.SumReferenced += ref
		perTag = append(perTag, set)
	}
	for i, set := range perTag {
		for d := range set {
			if owners[d] == 1 {
				u.Tags[i].Unique += sizes[d]
			}
		}
	}
	reach, err := l.Reachable(ctx)
	if err != nil {
		return nil, err
	}
	err = l.blobs.Walk(ctx, func(info cas.Info) error {
		u.Stored += info.Size
		if _, ok := reach[info.Digest]; ok {
			u.Reachable += info.Size
		}
		return nil
	}, nil)
	return u, err
}
