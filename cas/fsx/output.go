package fsx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// PartialSuffix marks a file still being written beside its final name.
const PartialSuffix = ".partial"

// ErrBadOutput: a path names something an output is never written to (a
// directory, a socket, a block device, a dangling symlink), or a stream
// where only a file will do. It is a usage error: nothing was written.
var ErrBadOutput = errors.New("cannot write the output there")

// OutputOptions say how CreateOutput treats a path.
type OutputOptions struct {
	// FilesOnly refuses a stream (a FIFO, a character device, "-"): only
	// a regular file, or nothing, may be at the path. FilesOnlyWhy says
	// why in the refusal.
	FilesOnly    bool
	FilesOnlyWhy string
	// Unnamed: the user did not name this path; it is derived from one
	// they did (a sidecar FILE.sha256). A FIFO without a reader is then
	// refused instead of waited for (RELIABILITY I15).
	Unnamed bool
	// Check, if set, is called with the path the bytes will reach (a
	// symlink's target) before anything is created; an error stops it.
	Check func(final string) error
}

// Output is a file being written at a path a command was told to write
// (RELIABILITY I13). CreateOutput decides, once, what the path is:
//
//   - nothing, or a regular file: the bytes go to FILE.partial beside it,
//     which Commit fsyncs and renames over FILE (keeping a replaced file's
//     permission bits) and then fsyncs the directory. A name that was
//     free when the output was created and is taken by Commit time is not
//     replaced: Commit fails (RenameNoReplace).
//   - a FIFO, a character device (/dev/null, a tape, a terminal), or "-"
//     (standard output): the bytes are streamed to it as it is. No
//     .partial, no rename: the FIFO or device is never replaced.
//   - a symlink: followed. If it reaches a regular file, that file is the
//     one replaced (the .partial lives beside it and the link stays a
//     link); if a FIFO or character device, it is streamed to; anything
//     else, or nothing (a dangling link), is refused.
//   - a directory, a socket or a block device: refused (ErrBadOutput).
type Output struct {
	name    string // as given
	final   string // the regular file created or replaced; the path streamed to
	tmp     string // final + PartialSuffix; "" for a stream
	f       *os.File
	stream  bool
	stdout  bool // "-": never closed
	replace bool // final was a regular file: Commit replaces it
	closed  bool
	state   outputState
	err     error // first write error
}

type outputState uint8

const (
	outputOpen outputState = iota
	outputCommitted
	outputAborted
)

// CreateOutput opens path for writing by the rule of Output.
func CreateOutput(path string, o OutputOptions) (*Output, error) {
	out, err := planOutput(path, o)
	if err != nil {
		return nil, err
	}
	if o.Check != nil {
		if err := o.Check(out.final); err != nil {
			return nil, err
		}
	}
	switch {
	case out.stdout:
		out.f = os.Stdout
	case out.stream:
		out.f, err = openStream(out.final, o.Unnamed)
	default:
		out.tmp = out.final + PartialSuffix
		err = livePartials.Create(out.tmp, func() (err error) {
			out.f, err = createPartial(out.tmp, out.final, out.replace)
			return err
		})
	}
	if errors.Is(err, fs.ErrNotExist) && out.tmp != "" {
		if _, derr := os.Stat(filepath.Dir(out.final)); errors.Is(derr, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s: directory %s does not exist: create it first", ErrBadOutput, out.final, filepath.Dir(out.final))
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// livePartials are the .partial files of this process's open outputs.
var livePartials TempSet

// RemovePartials removes the .partial file of every output of this
// process not yet committed or aborted, and refuses new outputs. It is
// for a process forced to exit by a signal without unwinding.
func RemovePartials() {
	livePartials.RemoveAll(func(p string) { os.Remove(p) })
}

// planOutput applies the rule to what is at path now.
func planOutput(path string, o OutputOptions) (*Output, error) {
	out := &Output{name: path, final: path}
	refuse := func(what, why string) (*Output, error) {
		return nil, fmt.Errorf("%w: %s is %s: %s", ErrBadOutput, path, what, why)
	}
	streamOK := func(what string) (*Output, error) {
		if o.FilesOnly {
			return refuse(what, o.FilesOnlyWhy)
		}
		out.stream = true
		return out, nil
	}
	if path == "-" {
		out.stdout = true
		return streamOK("standard output")
	}
	if base := filepath.Base(path); path == "" || base == "." || base == ".." || os.IsPathSeparator(path[len(path)-1]) {
		return nil, fmt.Errorf("%w: %q: expected a file name", ErrBadOutput, path)
	}
	li, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil // created
	}
	if err != nil {
		return nil, err
	}
	fi, via := li, ""
	if li.Mode()&fs.ModeSymlink != 0 {
		dest, _ := os.Readlink(path)
		via = fmt.Sprintf("a symlink to %q, which is ", dest)
		if fi, err = os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return refuse(fmt.Sprintf("a symlink to %q, which does not exist", dest), "give the path to create, or remove the link")
		} else if err != nil {
			return nil, err
		}
	}
	m := fi.Mode()
	switch {
	case m.IsRegular():
		out.replace = true
		if via != "" {
			real, err := filepath.EvalSymlinks(path)
			if err != nil {
				return refuse(via+"a regular file", fmt.Sprintf("the link cannot be resolved to a path to replace (%v): give the file's own path", err))
			}
			if rfi, err := os.Lstat(real); err != nil || !os.SameFile(rfi, fi) {
				return refuse(via+"a regular file", "the link cannot be resolved to a path to replace: give the file's own path")
			}
			out.final = real
		}
		return out, nil
	case m&fs.ModeNamedPipe != 0:
		return streamOK(via + "a named pipe")
	case m&fs.ModeCharDevice != 0:
		return streamOK(via + "a character device")
	case m.IsDir():
		return refuse(via+"a directory", "give the path of a file to write")
	case m&fs.ModeDevice != 0:
		return refuse(via+"a block device", "writing to it would overwrite the disk's file system; give a file on a mounted file system")
	}
	return refuse(via+"a "+FileKind(m), "oci-pack writes to regular files, named pipes and character devices only")
}

// openStream opens the FIFO or character device at path (through a
// symlink, if it is one) for writing, without truncating or creating it.
// A FIFO is first opened non-blocking: with no reader that fails at once
// (ENXIO), which for an unnamed path is a refusal; for a path the user
// named, the open then waits for a reader, as a shell's redirection does.
func openStream(path string, unnamed bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|ONonblock|oNoctty, 0)
	if errors.Is(err, syscall.ENXIO) {
		if unnamed {
			return nil, fmt.Errorf("%w: %s is a named pipe with no reader: start its reader, or remove it", ErrBadOutput, path)
		}
		f, err = os.OpenFile(path, os.O_WRONLY|oNoctty, 0)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode()&(fs.ModeNamedPipe|fs.ModeCharDevice) == 0 {
		err = fmt.Errorf("%w: %s changed to a %s while being opened", ErrBadOutput, path, FileKind(fi.Mode()))
	}
	if err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		err = setBlocking(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// createPartial creates tmp as a new file of its own, never through
// whatever already has that name: a stale file or symlink left at tmp
// (by a crash, or planted to redirect the write) is removed first —
// os.Remove removes a symlink itself, never its target — and O_EXCL
// (which with O_CREATE never follows a symlink) makes the create fail,
// instead of sharing the file, if another process creates tmp in between.
// When replacing, the new file gets the permission bits of final.
func createPartial(tmp, final string, replace bool) (*os.File, error) {
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove stale %s: %w", tmp, err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create %s: expected no file after removing the stale one, found one (another process writing the same output?): %w", tmp, err)
	}
	if err != nil {
		return nil, err
	}
	if replace {
		if fi, serr := os.Stat(final); serr == nil {
			err = f.Chmod(fi.Mode().Perm())
		}
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	return f, nil
}

// Name is the path as given.
func (o *Output) Name() string { return o.name }

// Final is where the bytes go: the regular file created or replaced (a
// symlink's target), or the path streamed to.
func (o *Output) Final() string { return o.final }

// Streamed says whether the output is a stream (FIFO, character device,
// standard output) rather than a file renamed into place.
func (o *Output) Streamed() bool { return o.stream }

// Replaces says whether Commit will replace an existing regular file.
func (o *Output) Replaces() bool { return o.replace }

// File is the open file written to (FILE.partial, or the stream).
func (o *Output) File() *os.File { return o.f }

// Write writes to the output.
func (o *Output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.f.Write(p)
	if err != nil {
		o.err = err
	}
	return n, err
}

// Close ends writing: a file is fsynced and closed, a stream closed
// (standard output is left open). Commit calls it; calling it first lets
// a caller finish many outputs before committing any. Idempotent.
func (o *Output) Close() error {
	if o.closed {
		return o.err
	}
	o.closed = true
	if o.stdout {
		return o.err
	}
	if !o.stream && o.err == nil {
		if err := o.f.Sync(); err != nil {
			o.err = fmt.Errorf("fsync %s: %w", o.tmp, err)
		}
	}
	if err := o.f.Close(); err != nil && o.err == nil {
		o.err = fmt.Errorf("close %s: %w", o.f.Name(), err)
	}
	return o.err
}

// Commit closes the output and, for a file, renames FILE.partial to FILE
// and fsyncs the directory: after it returns nil the output is complete
// and durable under its final name. It replaces only a regular file that
// was there when the output was created (and still is a regular file); a
// name that was free then and is taken now is never replaced, and neither
// is a FIFO, device or directory that took a regular file's place
// meanwhile. On error the .partial is removed.
func (o *Output) Commit() error {
	if o.state != outputOpen {
		return fmt.Errorf("%s: output already committed or aborted", o.name)
	}
	if err := o.Close(); err != nil {
		o.Abort()
		return err
	}
	if o.stream {
		o.state = outputCommitted
		return nil
	}
	if err := o.rename(); err != nil {
		o.Abort()
		return err
	}
	livePartials.Done(o.tmp)
	o.state = outputCommitted
	return syncParentDir(o.final)
}

func (o *Output) rename() error {
	if o.replace {
		fi, err := os.Lstat(o.final)
		switch {
		case err == nil && !fi.Mode().IsRegular():
			return fmt.Errorf("%w: %s became a %s while being written; not replaced", ErrBadOutput, o.final, FileKind(fi.Mode()))
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return err
		}
		return os.Rename(o.tmp, o.final)
	}
	r, err := os.OpenRoot(filepath.Dir(o.final))
	if err != nil {
		return err
	}
	defer r.Close()
	err = RenameNoReplace(r, filepath.Base(o.tmp), filepath.Base(o.final))
	var le *os.LinkError
	if errors.As(err, &le) { // name the files by their paths, not relative to r
		err = &os.LinkError{Op: le.Op, Old: o.tmp, New: o.final, Err: le.Err}
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s was created by someone else while being written (another process writing the same output?); not replaced: %w", o.final, err)
	}
	return err
}

// Abort closes the output and removes FILE.partial. It does nothing after
// Commit; idempotent.
func (o *Output) Abort() error {
	if o.state != outputOpen {
		return nil
	}
	o.state = outputAborted
	if !o.closed {
		o.closed = true
		if !o.stdout {
			o.f.Close()
		}
	}
	if o.stream {
		return nil
	}
	defer livePartials.Done(o.tmp)
	if err := os.Remove(o.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// WriteOutput creates path as CreateOutput does, calls write with it, and
// commits — or, if write fails, aborts. It returns where the bytes went.
func WriteOutput(path string, o OutputOptions, write func(io.Writer) error) (string, error) {
	out, err := CreateOutput(path, o)
	if err != nil {
		return "", err
	}
	if err := write(out); err != nil {
		out.Abort()
		return "", err
	}
	if err := out.Commit(); err != nil {
		return "", err
	}
	return out.Final(), nil
}

// syncParentDir fsyncs the directory holding path.
func syncParentDir(path string) error {
	dir := filepath.Dir(path)
	r, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := SyncDir(r, "."); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
