package sign

import (
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Formats cosign v3 writes and reads for a signature in the bundle form.
const (
	// PredicateCosignSign is the predicate type of cosign's signature
	// statement (a signature, not an attestation).
	PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"
	// PayloadTypeInToto is the DSSE payload type of an in-toto statement.
	PayloadTypeInToto = "application/vnd.in-toto+json"
	// AnnotationBundleContent and AnnotationBundlePredicateType are the
	// annotations cosign sets on a bundle referrer manifest.
	AnnotationBundleContent       = "dev.sigstore.bundle.content"
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	// BundleContentDSSE is AnnotationBundleContent's value for a DSSE
	// envelope.
	BundleContentDSSE = "dsse-envelope"
)

// statement is the in-toto statement cosign signs for an image: one
// subject, the manifest digest (no name), with empty annotations, and an
// empty predicate of type PredicateCosignSign.
func statement(subjects ...digest.Digest) ([]byte, error) {
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		PredicateType: PredicateCosignSign,
		Predicate:     &structpb.Struct{},
	}
	for _, d := range subjects {
		ann, _ := structpb.NewStruct(nil)
		st.Subject = append(st.Subject, &intoto.ResourceDescriptor{
			Digest:      map[string]string{d.Algorithm().String(): d.Encoded()},
			Annotations: ann,
		})
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	return protojson.Marshal(st)
}
