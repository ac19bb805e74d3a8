package main

import "github.com/oci-pack/oci-pack/layout"

// checkUserTag refuses, as a usage error, a tag a user asks for that
// oci-pack keeps for itself: sha256-<64 hex> names a subject's referrers
// index (the referrers tag schema), which attach moves without --force
// and ls hides. Tags read from archives and other tools are not checked
// here: there such a tag is what it says.
func checkUserTag(tag string) error {
	if layout.IsReferrersTag(tag) {
		return usagef("tag %q is reserved: a name of the form sha256-<digest hex> holds the referrers of that digest (attach and copy maintain it)", tag)
	}
	return nil
}
