package layout

import (
	"os"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// liveStaging are the staging directories of this process's open
// layouts, by path.
var liveStaging fsx.TempSet

// RemoveStaging removes the staging directory of every layout this
// process has open for writing, and refuses to make new ones. It is for
// a process forced to exit by a signal before Close runs (RELIABILITY
// I5): a later gc would reclaim them, but only then.
func RemoveStaging() {
	liveStaging.RemoveAll(func(dir string) {
		// The command is still running and may create a file inside
		// between RemoveAll's listing and its rmdir (ENOTEMPTY): retry
		// until the directory is gone.
		for i := 0; i < 20 && os.RemoveAll(dir) != nil; i++ {
		}
	})
}
