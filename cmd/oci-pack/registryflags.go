package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oci-pack/oci-pack/layout/registry"
	"github.com/spf13/pflag"
)

// registryFlags are the flags of every command that talks to a registry.
type registryFlags struct {
	plainHTTP bool
	caFile    string
	noResume  bool
}

func (r *registryFlags) apply(fs *pflag.FlagSet) {
	fs.BoolVar(&r.plainHTTP, "plain-http", false, "talk HTTP, not HTTPS, to the registry (a local registry)")
	fs.StringVar(&r.caFile, "ca-file", "", "PEM file of CA certificates to trust for the registry, besides the system's")
}

func (r *registryFlags) applyResume(fs *pflag.FlagSet) {
	fs.BoolVar(&r.noResume, "no-resume", false, "neither resume an interrupted transfer nor keep state to resume this one")
}

// clientOptions reads credentials from the Docker config (and its
// credential helpers), as docker, oras and helm do.
func (r *registryFlags) clientOptions() (registry.ClientOptions, error) {
	store, err := registry.DockerCredentials()
	if err != nil {
		return registry.ClientOptions{}, err
	}
	return registry.ClientOptions{
		PlainHTTP:  r.plainHTTP,
		CAFile:     r.caFile,
		Credential: registry.CredentialFunc(store),
		UserAgent:  userAgent(),
	}, nil
}

// remote opens a client for the registry reference ref.
func (r *registryFlags) remote(ref string) (*registry.Remote, error) {
	o, err := r.clientOptions()
	if err != nil {
		return nil, err
	}
	return registry.NewRemote(ref, o)
}

// transferOptions fills what push, pull and copy share.
func (e *env) transferOptions(rf *registryFlags, referrers bool) (registry.Options, func()) {
	prog, wait := e.progress()
	return registry.Options{
		Referrers: referrers,
		Jobs:      e.g.jobs,
		Progress:  prog,
		Notify:    func(msg string) { e.infof("%s", msg) },
		NoResume:  rf.noResume,
	}, wait
}

// reportTransfer prints what a push or pull did on stderr, and the root
// digest (or JSON) on stdout.
func (e *env) reportTransfer(verb, where string, res *registry.Result) error {
	moved, again := "sent", "not sent again (resumed)"
	if verb == "pulled" {
		moved, again = "received", "not fetched again (resumed)"
	}
	msg := fmt.Sprintf("%s %s %s: %d blob(s) and manifest(s) (%s) %s, %d (%s) already there", verb, res.Root.Digest, where,
		res.Sent, humanBytes(res.SentBytes), moved, res.Skipped+res.Mounted, humanBytes(res.SkippedBytes))
	if res.Mounted > 0 {
		msg += fmt.Sprintf(" (%d mounted)", res.Mounted)
	}
	msg += fmt.Sprintf(", %d referrer(s)", len(res.Referrers))
	if n := len(res.LegacySignatures); n > 0 {
		msg += fmt.Sprintf(", %d cosign .sig tag(s)", n)
	}
	if res.Resumed > 0 {
		msg += fmt.Sprintf("; %s %s", humanBytes(res.Resumed), again)
	}
	e.infof("%s", msg)
	if e.json() {
		return e.printJSON(map[string]any{"digest": res.Root.Digest, "sent": res.Sent, "sentBytes": res.SentBytes,
			"skipped": res.Skipped, "mounted": res.Mounted, "skippedBytes": res.SkippedBytes, "resumedBytes": res.Resumed, "referrers": nonNil(res.Referrers),
			"legacySignatures": nonNil(res.LegacySignatures)})
	}
	_, err := fmt.Fprintln(e.stdout, res.Root.Digest)
	return err
}

func userAgent() string {
	if version == "" {
		return "oci-pack"
	}
	return "oci-pack/" + version
}

// registryHint is the hint, naming flags and commands, for an error
// command cmd got talking to a registry ("" if none applies).
func registryHint(err error, cmd string) string {
	switch {
	case errors.Is(err, registry.ErrUnauthorized) && cmd == "login":
		return "; check the username and password (or token) for this registry"
	case errors.Is(err, registry.ErrUnauthorized):
		return "; log in with 'oci-pack login HOST --username USER --password-stdin' (credentials are read from the Docker config)"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "; add --plain-http for a registry that speaks plain HTTP"
	case strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "tls:"):
		return "; give the registry's CA certificate with --ca-file"
	}
	return ""
}
