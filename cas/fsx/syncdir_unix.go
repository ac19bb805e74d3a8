//go:build unix

package fsx

import "os"

// SyncDir fsyncs directory rel under r so a rename or create in it is
// durable.
func SyncDir(r *os.Root, rel string) error {
	d, err := OpenDir(r, rel)
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
