//go:build unix

package cas

import "os"

// syncDir fsyncs directory rel under r so a rename or create in it is
// durable.
func syncDir(r *os.Root, rel string) error {
	d, err := r.Open(rel)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// SyncDir is syncDir for other packages.
func SyncDir(r *os.Root, rel string) error { return syncDir(r, rel) }
