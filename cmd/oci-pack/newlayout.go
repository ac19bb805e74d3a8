package main

import "github.com/oci-pack/oci-pack/layout"

// openTarget opens dir for writing, creating the layout if missing. The
// returned finish closes it; when the command failed (err != nil) and
// this call created the directory, the layout is removed again if it
// holds no index entry (layout.Discard): a failed pack, import or copy
// into a new layout leaves nothing behind.
func (e *env) openTarget(dir string) (*layout.Layout, func(err error), error) {
	created := !fileExists(dir)
	l, err := e.open(dir, layout.ReadWrite, true)
	if err != nil {
		if created {
			layout.Discard(dir)
		}
		return nil, nil, err
	}
	return l, func(err error) {
		l.Close()
		if err != nil && created {
			layout.Discard(dir)
		}
	}, nil
}
