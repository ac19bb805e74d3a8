package pack

import (
	"errors"
	"fmt"

	yaml3 "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/oci-pack/oci-pack/layout/strictjson"
)

// YAML alias budget (issue 12 class 9, RELIABILITY I8): YAML aliases let
// a 1 KB document stand for gigabytes ("billion laughs"), and the YAML
// to JSON conversion expands every one. checkYAMLExpansion parses the
// document into nodes without expanding anything and counts what the
// expansion would make, each anchored node once (so the count costs time
// linear in the input), refusing before any expansion a document that
// would exceed the budget of the JSON it becomes.
const (
	// maxYAMLNodes bounds the expanded node count: a Chart.yaml has a few
	// hundred; the conversion holds every expanded node in memory.
	maxYAMLNodes = 100_000
	// maxYAMLBytes bounds the expanded scalar bytes: the JSON budget.
	maxYAMLBytes = strictjson.MaxDocument
)

// errYAMLBudget: a YAML document would expand beyond the budget.
var errYAMLBudget = errors.New("YAML document expands beyond its budget")

// checkYAMLExpansion fails if y, with every alias expanded, would hold
// more than maxYAMLNodes nodes or maxYAMLBytes bytes of scalars, or if an
// alias refers to a node that contains it.
func checkYAMLExpansion(y []byte) error {
	var doc yaml3.Node
	if err := yaml3.Unmarshal(y, &doc); err != nil {
		return err
	}
	type cost struct{ nodes, bytes int64 }
	memo := map[*yaml3.Node]cost{}
	open := map[*yaml3.Node]bool{}
	var total func(n *yaml3.Node) (cost, error)
	total = func(n *yaml3.Node) (cost, error) {
		if c, ok := memo[n]; ok {
			return c, nil
		}
		if open[n] {
			return cost{}, fmt.Errorf("%w: an alias at line %d refers to a node that contains it", errYAMLBudget, n.Line)
		}
		open[n] = true
		defer delete(open, n)
		c := cost{nodes: 1, bytes: int64(len(n.Value))}
		kids := n.Content
		if n.Kind == yaml3.AliasNode && n.Alias != nil {
			c, kids = cost{}, []*yaml3.Node{n.Alias}
		}
		for _, k := range kids {
			kc, err := total(k)
			if err != nil {
				return cost{}, err
			}
			c.nodes += kc.nodes
			c.bytes += kc.bytes
			if c.nodes > maxYAMLNodes || c.bytes > maxYAMLBytes {
				return cost{}, fmt.Errorf("%w: with its aliases expanded it holds more than %d nodes or %d bytes (at least %d nodes, %d bytes by line %d)", errYAMLBudget, maxYAMLNodes, maxYAMLBytes, c.nodes, c.bytes, k.Line)
			}
		}
		memo[n] = c
		return c, nil
	}
	_, err := total(&doc)
	return err
}
