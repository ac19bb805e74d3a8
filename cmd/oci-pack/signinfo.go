package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout/sign"
)

// signatureLine says, for a terminal, which signature it is, who signed
// it and whether that verified.
func signatureLine(in sign.Info) string {
	return fmt.Sprintf("%s signature %s: %s", in.Form, in.Signature, signatureStatus(in))
}

// signatureStatus is signatureLine without the signature's name.
func signatureStatus(in sign.Info) string {
	hint := "no key hint"
	if in.Hint != "" {
		hint = "key hint " + safe(in.Hint)
	}
	switch {
	case in.Checked && in.Verified:
		return fmt.Sprintf("verified by %s (%s)", safe(in.Key), hint)
	case in.Checked:
		return fmt.Sprintf("NOT verified (%s): %s", hint, safe(in.Problem))
	}
	return hint + ", not checked (give --key or --trust)"
}

// warnLoaders warns that name carries n signatures that some registry
// loaders drop, and names those that keep them.
func warnLoaders(e *env, name string, n int, legacy bool) {
	msg := fmt.Sprintf("%s has %d signature(s): `skopeo copy` and `crane copy` drop them on the way into a registry; `oras cp -r` and `regctl image copy --referrers` keep them (oci-pack export/import and copy carry them too)", safe(name), n)
	if legacy {
		msg += "; a legacy signature lives under its own tag sha256-<digest>.sig: copy that tag as well (`regctl image copy --digest-tags`)"
	}
	e.warnf("%s", msg)
}
