//go:build tools

// Package tools pins cosign v2 (the legacy sha256-<hex>.sig signature
// form), which scripts/tools.sh builds and installs as `cosign2`. A module
// of its own, like ../cosign: its dependency graph must not move the
// other tools' versions. To bump: cd scripts/tools/cosign2 &&
// GOFLAGS=-mod=mod go get github.com/sigstore/cosign/v2@vX.Y.Z && go mod tidy.
package tools

import _ "github.com/sigstore/cosign/v2/cmd/cosign"
