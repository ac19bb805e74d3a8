package layout_test

import (
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/layout"
)

func TestValidateMediaType(t *testing.T) {
	good := []string{"application/octet-stream", "application/vnd.oci.image.manifest.v1+json", "a/b", "image/png", "application/x!#$&-^_.+"}
	bad := []string{"", "a", "a/", "/b", "a/b/c", "not a media type", "a/b; charset=utf-8", "-a/b", "a/.b", "application/" + strings.Repeat("x", 128), "a/b\n", "é/b"}
	for _, mt := range good {
		if err := layout.ValidateMediaType(mt); err != nil {
			t.Errorf("ValidateMediaType(%q) = %v", mt, err)
		}
	}
	for _, mt := range bad {
		if err := layout.ValidateMediaType(mt); err == nil {
			t.Errorf("ValidateMediaType(%q) accepted", mt)
		}
	}
}
