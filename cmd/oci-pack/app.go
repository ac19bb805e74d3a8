package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/oci-pack/oci-pack/cas"
	"github.com/oci-pack/oci-pack/layout"
	"github.com/spf13/pflag"
)

// command is one subcommand: its help, its flags and what it runs.
type command struct {
	name  string
	args  string // argument synopsis
	short string
	long  string // examples, one per line
	// setup registers the command's own flags and returns its runner.
	setup func(fs *pflag.FlagSet) func(e *env, args []string) error
	// minArgs/maxArgs bound the positional arguments (maxArgs < 0: any).
	minArgs, maxArgs int
	// hidden commands are left out of help and completion.
	hidden bool
	// readOnly commands change nothing on disk: a signal that stops one
	// leaves nothing half-done, and its messages say so instead of
	// speaking of a commit that never was to be.
	readOnly bool
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// globals are the flags every command takes.
type globals struct {
	jobs        int
	format      string
	noProgress  bool
	quiet       bool
	lockTimeout time.Duration
	noWait      bool
}

func (g *globals) apply(fs *pflag.FlagSet) {
	fs.IntVarP(&g.jobs, "jobs", "j", runtime.NumCPU(), "parallel jobs (files hashed, compressed, verified at once)")
	fs.StringVar(&g.format, "format", "text", "output format: text or json")
	fs.BoolVar(&g.noProgress, "no-progress", false, "no progress bars")
	fs.BoolVarP(&g.quiet, "quiet", "q", false, "no progress and no informational messages on stderr")
	fs.DurationVar(&g.lockTimeout, "lock-timeout", 5*time.Minute, "how long to wait for another oci-pack process's lock on the layout")
	fs.BoolVar(&g.noWait, "no-wait", false, "fail at once (exit 4) if the layout is locked; same as --lock-timeout 0")
}

// env is what a running command works with.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	g      globals
	cmd    *command
}

// infof prints an informational line on stderr unless --quiet.
func (e *env) infof(format string, args ...any) {
	if !e.g.quiet {
		fmt.Fprintf(e.stderr, format+"\n", args...)
	}
}

// warnf prints a warning on stderr (even with --quiet).
func (e *env) warnf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "warning: "+format+"\n", args...)
}

// deprecated notes on stderr (unless --quiet) that old still works but
// new is the spelling to use.
func (e *env) deprecated(old, new string) {
	if !e.g.quiet {
		fmt.Fprintf(e.stderr, "oci-pack %s: %s is deprecated; use %s\n", e.cmd.name, old, new)
	}
}

func (e *env) json() bool { return e.g.format == "json" }

func (e *env) lockTimeout() time.Duration {
	if e.g.noWait {
		return 0
	}
	return e.g.lockTimeout
}

// maxJobs bounds --jobs: it also sets GOMAXPROCS, and the Go runtime
// aborts past 10,000 threads; no machine oci-pack runs on has more cores.
const maxJobs = 1024

// open opens a layout for a command.
func (e *env) open(dir string, mode layout.Mode, create bool) (*layout.Layout, error) {
	return e.openWith(dir, layout.Options{Mode: mode, Create: create})
}

// openRepair opens a layout for a command that must work on a layout over
// a budget, to bring it back (untag, gc, verify): with the repair
// allowance (RELIABILITY I14), said on stderr when it is needed.
func (e *env) openRepair(dir string, mode layout.Mode) (*layout.Layout, error) {
	return e.openWith(dir, layout.Options{Mode: mode, Repair: true, Notify: func(s string) { e.warnf("%s: %s", dir, s) }})
}

// openWith opens a layout with o, adding the command's lock timeout and
// context, and reporting blobs repaired from verified bytes (I6).
// Staging is removed at a forced exit by layout.RemoveStaging.
func (e *env) openWith(dir string, o layout.Options) (*layout.Layout, error) {
	o.LockTimeout, o.Context, o.Waiting = e.lockTimeout(), e.ctx, e.waiting
	l, err := layout.Open(dir, o)
	if err != nil {
		return nil, err
	}
	l.Blobs().OnRepair(func(r cas.Repair) {
		e.warnf("repaired corrupt blob %s in %s from verified bytes (it was: %s)", r.Digest, dir, r.Why)
	})
	return l, nil
}

// waiting says once on stderr that the command waits for another
// process's lock, and whose.
func (e *env) waiting(what string, holders []string) {
	by := ""
	if len(holders) > 0 {
		by = " by " + strings.Join(holders, ", ")
	}
	limit := "until it is free"
	if t := e.lockTimeout(); t > 0 {
		limit = "up to " + t.String() + " (--lock-timeout)"
	}
	e.infof("oci-pack %s: %s is locked%s; waiting %s", e.cmd.name, what, by, limit)
}

// run parses args and runs one command; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printOverview(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help":
		printOverview(stdout)
		return exitOK
	case "help":
		if len(args) == 1 {
			printOverview(stdout)
			return exitOK
		}
		c, ok := commands[args[1]]
		if !ok {
			fmt.Fprintf(stderr, "oci-pack: unknown command %q\n", args[1])
			return exitUsage
		}
		fs, _ := newFlagSet(c, new(globals))
		printHelp(stdout, c, fs)
		return exitOK
	case "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "oci-pack: unknown command %q (see 'oci-pack help')\n", name)
		return exitUsage
	}
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, cmd: c}
	fs, runner := newFlagSet(c, &e.g)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printHelp(stdout, c, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "oci-pack %s: %v\nRun 'oci-pack %s --help' for usage.\n", c.name, err, c.name)
		return exitUsage
	}
	pos := fs.Args()
	if len(pos) < c.minArgs || (c.maxArgs >= 0 && len(pos) > c.maxArgs) {
		fmt.Fprintf(stderr, "oci-pack %s: wrong number of arguments\nusage: oci-pack %s %s\n", c.name, c.name, c.args)
		return exitUsage
	}
	if e.g.format != "text" && e.g.format != "json" {
		fmt.Fprintf(stderr, "oci-pack %s: --format %q: want text or json\n", c.name, e.g.format)
		return exitUsage
	}
	if e.g.jobs < 1 || e.g.jobs > maxJobs {
		fmt.Fprintf(stderr, "oci-pack %s: --jobs %d: want 1 to %d\n", c.name, e.g.jobs, maxJobs)
		return exitUsage
	}
	runtime.GOMAXPROCS(e.g.jobs)
	changesNothing.Store(c.readOnly)
	out := &checkedWriter{w: stdout}
	e.stdout = out
	err := runner(e, pos)
	if err == nil && out.err != nil {
		err = fmt.Errorf("output lost: %w", out.err) // a full disk, a closed pipe
	}
	sig, done := gotSignal.Load(), committed.Load()
	if err != nil {
		hint := hintFor(err)
		if hint != "" {
			hint = "; " + hint
		}
		if h := registryHint(err, c.name); h != "" {
			hint = h
		}
		switch {
		case done:
			hint += "; the change itself was committed and is complete"
		case sig != 0 && c.readOnly:
			hint = fmt.Sprintf(" (stopped by %s)", signalName(sig))
		case sig != 0:
			hint = fmt.Sprintf(" (interrupted by %s before the command committed)", signalName(sig))
		}
		fmt.Fprintf(stderr, "oci-pack %s: %v%s\n", c.name, err, hint)
	} else if sig != 0 && done {
		fmt.Fprintf(stderr, "oci-pack %s: %s came after the change was committed: it is complete\n", c.name, signalName(sig))
	}
	return exitCode(err)
}

// checkedWriter keeps the first error writing to stdout: output lost to
// a full disk or a closed pipe makes the command fail (RELIABILITY I16),
// whichever print lost it.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

func newFlagSet(c *command, g *globals) (*pflag.FlagSet, func(*env, []string) error) {
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	runner := c.setup(fs)
	g.apply(fs)
	return fs, runner
}

func printOverview(w io.Writer) {
	fmt.Fprintln(w, "oci-pack packs files and directories as OCI artifacts into an OCI image layout,")
	fmt.Fprintln(w, "and moves layouts across air gaps as tarballs.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: oci-pack COMMAND [ARGS] [FLAGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range visibleCommands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.short)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "References: LAYOUT is a directory; LAYOUT:TAG names a tag; LAYOUT@sha256:... a digest.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 failure, 2 usage, 3 integrity, 4 conflict, 130/143 interrupted.")
	fmt.Fprintln(w, "Run 'oci-pack help COMMAND' for a command's flags and examples.")
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func printHelp(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "Usage: oci-pack %s %s\n\n%s\n", c.name, c.args, c.short)
	if c.long != "" {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, line := range strings.Split(strings.TrimSpace(c.long), "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
}

// stderrIsTerminal reports whether progress bars can be drawn.
func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
