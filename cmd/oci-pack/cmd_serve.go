package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/oci-pack/oci-pack/layout/serve"
	"github.com/spf13/pflag"
	"golang.org/x/net/netutil"
)

func init() {
	register(&command{
		name:     "serve",
		readOnly: true,
		args:     "LAYOUT|NAME=LAYOUT...",
		short:    "serve layouts in place as a read-only OCI registry (pull, Range, tags, referrers API)",
		long: `oci-pack serve offline                                   # http://127.0.0.1:5000, repository "offline"
oci-pack serve offline --name models/llama
oci-pack serve models/llama=/srv/llama models/mistral=/srv/mistral
oci-pack serve offline --addr 0.0.0.0:5443 --tls-cert crt.pem --tls-key key.pem --htpasswd users.htpasswd
oci-pack serve offline --addr 10.0.0.5:5000 --insecure-listen   # a closed network: plain HTTP, no passwords`,
		minArgs: 1, maxArgs: -1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			name := fs.String("name", "", "repository name of the one layout served (default: the directory's name)")
			addr := fs.String("addr", "127.0.0.1:5000", "address to listen on; beyond loopback it needs --tls-cert and --htpasswd, or --insecure-listen")
			cert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (and --tls-key)")
			key := fs.String("tls-key", "", "PEM private key of --tls-cert")
			htpasswd := fs.String("htpasswd", "", "require basic authentication against this htpasswd file (bcrypt entries: htpasswd -B)")
			maxConns := fs.Int("max-requests", 64, "requests served at once; more wait, then get 503")
			maxOpen := fs.Int("max-connections", 512, "client connections open at once (idle keep-alives included); more wait to be accepted")
			insecure := fs.Bool("insecure-listen", false, "serve on an address beyond loopback without TLS and --htpasswd (anyone who reaches it reads every layout served)")
			return func(e *env, args []string) error {
				repos, err := serveRepos(args, *name)
				if err != nil {
					return err
				}
				if (*cert == "") != (*key == "") {
					return usagef("--tls-cert and --tls-key go together")
				}
				if *maxOpen < 1 {
					return usagef("--max-connections %d: want at least 1", *maxOpen)
				}
				o := serve.Options{LockTimeout: e.lockTimeout(), MaxInFlight: *maxConns, Log: func(s string) { e.warnf("%s", s) }}
				if *htpasswd != "" {
					if o.Auth, err = serve.LoadHtpasswd(*htpasswd); err != nil {
						return err
					}
				}
				srv, err := serve.New(repos, o)
				if err != nil {
					return err
				}
				ln, err := net.Listen("tcp", *addr)
				if err != nil {
					return fmt.Errorf("listen on %s: %w", *addr, err)
				}
				if err := checkExposure(e, ln, *cert != "", *htpasswd != "", *insecure); err != nil {
					ln.Close()
					return err
				}
				// Each connection holds a file descriptor: a flood of them
				// (idle ones last up to IdleTimeout) must not take the
				// descriptors the blobs being served need.
				ln = netutil.LimitListener(ln, *maxOpen)
				return runServe(e, srv, ln, repos, *cert, *key)
			}
		},
	})
}

// serveRepos turns the arguments into repositories: NAME=LAYOUT, or a
// layout named by --name (one layout only) or by its directory's name.
func serveRepos(args []string, name string) ([]serve.Repo, error) {
	if name != "" && len(args) > 1 {
		return nil, usagef("--name names one layout; give several as NAME=LAYOUT")
	}
	var out []serve.Repo
	for _, a := range args {
		n, dir, ok := strings.Cut(a, "=")
		if !ok {
			dir, n = a, name
			if n == "" {
				abs, err := filepath.Abs(a)
				if err != nil {
					return nil, err
				}
				n = strings.ToLower(filepath.Base(abs))
			}
		}
		out = append(out, serve.Repo{Name: n, Dir: dir})
	}
	return out, nil
}

// checkExposure refuses a listener beyond loopback that lacks TLS or
// authentication (every layout served would be readable by anyone who
// reaches it, in clear) unless insecure says the operator means it; then
// it only warns. Decided on the address actually bound, so a host name or
// an empty host (all interfaces) is judged by what it resolved to.
func checkExposure(e *env, ln net.Listener, tls, auth, insecure bool) error {
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok || tcp.IP.IsLoopback() || (tls && auth) {
		return nil
	}
	var missing []string
	if !tls {
		missing = append(missing, "TLS (--tls-cert, --tls-key)")
	}
	if !auth {
		missing = append(missing, "authentication (--htpasswd)")
	}
	what := strings.Join(missing, " and ")
	if !insecure {
		return usagef("refusing to serve on %s, beyond loopback, without %s: anyone who can reach it could read every layout served; add them, listen on 127.0.0.1, or pass --insecure-listen if this network is trusted", ln.Addr(), what)
	}
	e.warnf("serving on %s without %s (--insecure-listen): anyone who can reach it can read every layout served", ln.Addr(), what)
	return nil
}

func runServe(e *env, h http.Handler, ln net.Listener, repos []serve.Repo, cert, key string) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	scheme := "http"
	if cert != "" {
		scheme = "https"
	}
	names := make([]string, len(repos))
	for i, r := range repos {
		names[i] = r.Name + " (" + r.Dir + ")"
	}
	e.infof("serving %s://%s/v2/ read-only: %s", scheme, ln.Addr(), strings.Join(names, ", "))
	line := ln.Addr().String()
	if e.json() {
		// One line, for a script reading the first line of a server
		// that keeps running (docs/json/serve.schema.json).
		b, _ := json.Marshal(map[string]any{"address": line, "url": scheme + "://" + line + "/v2/", "repositories": serveRepoList(repos)})
		line = string(b)
	}
	if _, err := fmt.Fprintln(e.stdout, line); err != nil {
		ln.Close()
		return err
	}
	done := make(chan error, 1)
	go func() {
		if cert != "" {
			done <- hs.ServeTLS(ln, cert, key)
		} else {
			done <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return err
	case <-e.ctx.Done():
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// serveRepoList is serve's repositories for its JSON line.
func serveRepoList(repos []serve.Repo) []map[string]string {
	out := make([]map[string]string, 0, len(repos))
	for _, r := range repos {
		out = append(out, map[string]string{"name": r.Name, "layout": r.Dir})
	}
	return out
}
