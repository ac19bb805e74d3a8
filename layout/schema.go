package layout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/opencontainers/image-spec/schema"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// The image-spec JSON schemas, compiled once. image-spec's own
// schema.Validator recompiles every schema file on every call (milliseconds
// each), which made verifying 10,000 manifests take minutes; the schemas
// and the validator library are the same.
var (
	schemaOnce     sync.Once
	manifestSchema *jsonschema.Schema
	indexSchema    *jsonschema.Schema
	schemaErr      error
)

func compileSchemas() {
	c := jsonschema.NewCompiler()
	// Schema files refer to each other by file name, relative to ids under
	// https://opencontainers.org/schema/…; resolve every URL to the
	// embedded file with its base name.
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		base := path.Base(strings.SplitN(u, "#", 2)[0])
		return schema.FileSystem().Open("/" + base)
	}
	// Absolute URLs: a bare file name would be resolved against the
	// working directory, and a "#" in its path cut the URL short.
	if manifestSchema, schemaErr = c.Compile("file:///image-manifest-schema.json"); schemaErr != nil {
		return
	}
	indexSchema, schemaErr = c.Compile("file:///image-index-schema.json")
}

// ValidateSchema checks b against the image-spec JSON schema of an image
// index (isIndex) or an image manifest: the check Verify makes of
// index.json and of every OCI manifest and index it walks, so that an
// import can refuse what verify would flag afterwards.
func ValidateSchema(b []byte, isIndex bool) error { return validateSchemaBytes(b, isIndex) }

// validateSchema checks b against the image-spec schema of a manifest
// (isIndex false) or an index.
func validateSchemaBytes(b []byte, isIndex bool) error {
	schemaOnce.Do(compileSchemas)
	if schemaErr != nil {
		return fmt.Errorf("compile image-spec schemas: %w", schemaErr)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("schema check: %w", err)
	}
	s := manifestSchema
	if isIndex {
		s = indexSchema
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	return nil
}
