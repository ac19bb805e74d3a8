//go:build tools

// Package tools pins cosign v3 (the Sigstore bundle form), which
// scripts/tools.sh builds as `cosign`. It is a module of its own: cosign's
// dependency graph pins go-containerregistry and sigstore libraries at
// versions other than the main tools module's, and must not move them.
// To bump: cd scripts/tools/cosign && GOFLAGS=-mod=mod go get
// github.com/sigstore/cosign/v3@vX.Y.Z && go mod tidy.
package tools

import _ "github.com/sigstore/cosign/v3/cmd/cosign"
