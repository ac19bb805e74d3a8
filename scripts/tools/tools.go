//go:build tools

// Package tools pins the interop/test tools that scripts/tools.sh builds.
//
// This is a separate module (scripts/tools/go.mod) so the tools' large
// dependency graphs never enter the oci-pack module. The blank imports keep
// `go mod tidy` from dropping the tool modules; the build tag keeps this file
// out of every normal build. To bump a tool:
//
//	cd scripts/tools && GOFLAGS=-mod=mod go get MODULE@vX.Y.Z && go mod tidy
//
// and commit go.mod + go.sum (scripts/tools.sh then rebuilds that tool,
// because its stamp file no longer matches the pinned version).
// modctl's versions are not in the checksum database as served here, so
// adding/tidying needs GONOSUMDB=github.com/modelpack/modctl; once its hash is
// in go.sum, builds verify against go.sum as usual.
package tools

import (
	_ "github.com/distribution/distribution/v3/cmd/registry"
	_ "github.com/google/go-containerregistry/cmd/crane"
	_ "github.com/modelpack/modctl"
	_ "github.com/opencontainers/distribution-spec/conformance"
	_ "github.com/opencontainers/umoci/cmd/umoci"
	_ "github.com/regclient/regclient/cmd/regctl"
	_ "helm.sh/helm/v3/cmd/helm"
	_ "oras.land/oras/cmd/oras"
)
