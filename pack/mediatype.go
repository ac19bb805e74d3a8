package pack

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
)

// checkMediaTypes refuses an artifact type or media type given by the
// caller that is not a media type, before any work: the document door
// would refuse the manifest after every layer was stored.
func checkMediaTypes(inputs []Input, o Options) error {
	check := func(what, mt string) error {
		if mt == "" {
			return nil
		}
		if err := layout.ValidateMediaType(mt); err != nil {
			return fmt.Errorf("%w: %s: %v", layout.ErrInvalidArgument, what, err)
		}
		return nil
	}
	if err := check("artifact type", o.ArtifactType); err != nil {
		return err
	}
	if err := check("config media type", o.ConfigMediaType); err != nil {
		return err
	}
	for _, in := range inputs {
		if err := check("media type of "+in.Path, in.MediaType); err != nil {
			return err
		}
	}
	return nil
}
