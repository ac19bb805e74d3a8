package extract

import (
	"context"
	"fmt"

	"github.com/oci-pack/oci-pack/layout"
)

// unpackImage is not available on Windows: umoci's unpacker is Unix-only.
func (x *extraction) unpackImage(ctx context.Context, mp *manifestPlan, prog layout.Progress) error {
	return fmt.Errorf("%s is a container image; unpacking a root filesystem is not supported on Windows", mp.desc.Digest)
}
