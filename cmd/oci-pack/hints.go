package main

import (
	"errors"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/oci-pack/oci-pack/pack"
	"github.com/oci-pack/oci-pack/pack/extract"
	"github.com/oci-pack/oci-pack/pack/modelcar"
)

// hints are what the CLI adds to an error of a kind the library names by
// a sentinel: the flag or command that gets the user further. Library
// errors never name CLI flags; this table does. The first match wins.
var hints = []struct {
	err  error
	hint string
}{
	{pack.ErrTagUnproven, "give --tag-conflict overwrite to pack anyway (the tag moves only if the result differs), or --tag-conflict skip to keep it"},
	{layout.ErrTagExists, "give --tag-conflict overwrite to move it, or --tag-conflict skip to keep it"},
	{pack.ErrArtifactTypeRequired, "give --artifact-type TYPE (or --config FILE, or a --preset)"},
	{pack.ErrLinkOutside, "pass --allow-outside to pack what it points to"},
	{layout.ErrLocked, "wait for it to finish, or give a longer --lock-timeout"},
	{extract.ErrExists, "give --overwrite to replace files and symlinks"},
	{pack.ErrImageVolumeFiles, "give --preset modelpack or modelcar for a directory, and leave --compression auto"},
	{modelcar.ErrPlatform, "choose platforms the base image has with --platform"},
	{sign.ErrKeyExists, "choose another --output-key-prefix, or move the existing key away"},
}

// hintFor returns the hint for err, or "".
func hintFor(err error) string {
	for _, h := range hints {
		if errors.Is(err, h.err) {
			return h.hint
		}
	}
	return ""
}
