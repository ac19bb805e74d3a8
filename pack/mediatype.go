package pack

import (
	"fmt"
	"regexp"

	"github.com/oci-pack/oci-pack/layout"
)

// mediaTypePattern is the image-spec schema's media type grammar (RFC 6838
// type/subtype), which verify enforces on what pack writes.
var mediaTypePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`)

// checkMediaTypes refuses an artifact type or media type given by the
// user that is not a media type: pack must not write a manifest its own
// verify rejects (or one carrying terminal escape sequences).
func checkMediaTypes(inputs []Input, o Options) error {
	check := func(what, mt string) error {
		if mt != "" && !mediaTypePattern.MatchString(mt) {
			return fmt.Errorf("%w: %s %q is not a media type (type/subtype, RFC 6838)", layout.ErrInvalidArgument, what, mt)
		}
		return nil
	}
	if err := check("--artifact-type", o.ArtifactType); err != nil {
		return err
	}
	if err := check("--config media type", o.ConfigMediaType); err != nil {
		return err
	}
	for _, in := range inputs {
		if err := check("media type of "+in.Path, in.MediaType); err != nil {
			return err
		}
	}
	return nil
}
