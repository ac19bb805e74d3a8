package main

import (
	"github.com/oci-pack/oci-pack/layout"
	"github.com/spf13/pflag"
)

// conflictFlags are the one vocabulary for a tag that already names
// another artifact: --tag-conflict fail|skip|overwrite, on every command
// that sets a tag. --force, the older spelling, still means overwrite,
// with a deprecation note.
type conflictFlags struct {
	fs     *pflag.FlagSet
	policy string
	force  bool
}

func (c *conflictFlags) apply(fs *pflag.FlagSet) {
	c.fs = fs
	fs.StringVar(&c.policy, "tag-conflict", "fail", "when the tag already names another artifact: fail (exit 4, nothing changes), skip (keep it) or overwrite (move it)")
	fs.BoolVar(&c.force, "force", false, "deprecated: --tag-conflict overwrite")
	fs.MarkHidden("force")
}

// resolve returns the policy the flags ask for.
func (c *conflictFlags) resolve(e *env) (layout.Conflict, error) {
	policy, err := layout.ParseConflict(c.policy)
	if err != nil {
		return 0, usagef("--tag-conflict: %v", err)
	}
	if !c.force {
		return policy, nil
	}
	if c.fs.Changed("tag-conflict") && policy != layout.ConflictOverwrite {
		return 0, usagef("--force means --tag-conflict overwrite; it contradicts --tag-conflict %s", c.policy)
	}
	e.deprecated("--force", "--tag-conflict overwrite")
	return layout.ConflictOverwrite, nil
}

// conflictValues are --tag-conflict's values, for completion.
var conflictValues = []string{"fail", "skip", "overwrite"}

// tellTagChange says on stderr what --tag-conflict did to tag: kept at
// its old artifact (skip) or moved from it (overwrite). A new tag, or one
// already at the artifact, says nothing.
func (e *env) tellTagChange(tag string, ch layout.TagChange) {
	switch {
	case ch.Skipped:
		e.infof("kept tag %s at %s (--tag-conflict skip)", tag, ch.Old)
	case ch.Old != "" && ch.Old != ch.New:
		e.infof("moved tag %s from %s", tag, ch.Old)
	}
}
