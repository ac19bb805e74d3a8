package layout

import (
	"fmt"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// corruptUnlessEnv reports err, met reading what (a file of the layout),
// as ErrCorrupt — unless err is an environment failure (fsx.IsEnvironment:
// permission denied, too many open files, an I/O error), which says
// nothing about the layout and is returned as it is, class and all
// (RELIABILITY I16).
func corruptUnlessEnv(what string, err error) error {
	if fsx.IsEnvironment(err) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %v: %w", what, err, ErrCorrupt)
}
