package strictjson

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

type embedded struct {
	SchemaVersion int `json:"schemaVersion"`
}

type doc struct {
	embedded
	Manifests   []inner           `json:"manifests"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Subject     *inner            `json:"subject,omitempty"`
	Nested      map[string]inner  `json:"nested,omitempty"`
	When        time.Time         `json:"when,omitzero"`
	Any         any               `json:"any,omitempty"`
	Plain       string
}

// Keys must name the target's fields exactly, at every depth; keys of
// maps, of values decoded into interfaces, and of unknown fields are free.
func TestUnmarshalExactFieldNames(t *testing.T) {
	for _, tc := range []struct{ doc, wantKey string }{
		{`{"schemaVersion":2,"manifests":[]}`, ""},
		{`{"SchemaVersion":2,"manifests":[]}`, `"SchemaVersion" is not "schemaVersion"`},
		{`{"schemaVersion":2,"Manifests":[]}`, `"Manifests" is not "manifests"`},
		{`{"manifests":[{"digest":"a","Size":1}]}`, `"Size" is not "size"`},
		{`{"subject":{"DIGEST":"a"}}`, `"DIGEST" is not "digest"`},
		{`{"nested":{"Any Key":{"Digest":"a"}}}`, `"Digest" is not "digest"`},
		{`{"annotations":{"Digest":"a","SIZE":"b"}}`, ""},
		{`{"any":{"Manifests":1}}`, ""},
		{`{"unknown":{"Digest":1},"plain":"x"}`, `"plain" is not "Plain"`},
		{`{"Plain":"x","when":"2026-01-01T00:00:00Z"}`, ""},
	} {
		var d doc
		err := Unmarshal([]byte(tc.doc), &d)
		switch {
		case tc.wantKey == "" && err != nil:
			t.Errorf("%s: %v", tc.doc, err)
		case tc.wantKey != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantKey)):
			t.Errorf("%s: error %v, want ErrInvalid naming %s", tc.doc, err, tc.wantKey)
		}
	}
	if err := Check([]byte(`{"Manifests":[]}`)); err != nil {
		t.Errorf("Check knows no target type, so no field names: %v", err)
	}
}
