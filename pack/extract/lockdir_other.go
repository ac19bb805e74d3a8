//go:build !unix

package extract

import "os"

// canLockDirs: directories cannot be locked here, so staging of dead
// runs is not reclaimed (a live run's would look the same).
const canLockDirs = false

func lockDir(*os.File) (bool, error) { return true, nil }
