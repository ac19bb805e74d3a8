package archive

import "github.com/oci-pack/oci-pack/cas/fsx"

// WriteFile writes the receipt (as Encode) to path by the output rule of
// fsx.CreateOutput (RELIABILITY I13): a regular file or nothing there is
// replaced atomically (path.partial, fsync, rename), so a receipt carried
// on a stick is the old one or the whole new one; a FIFO, a character
// device or "-" is streamed to; a symlink is followed to a regular file;
// anything else is refused. It returns where the receipt went.
func (r *Receipt) WriteFile(path string) (string, error) {
	return fsx.WriteOutput(path, fsx.OutputOptions{}, r.Encode)
}
