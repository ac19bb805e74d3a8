package main

import (
	"bufio"
	"io"
	"os"
	"strings"

	"github.com/oci-pack/oci-pack/layout/registry"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "login",
		args:  "REGISTRY",
		short: "check and save credentials for a registry in the Docker config (or its credential helper)",
		long: `printf '%s' "$TOKEN" | oci-pack login registry.local -u robot --password-stdin
oci-pack login localhost:5000 -u admin --password-stdin --plain-http < pw.txt`,
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			user := fs.StringP("username", "u", "", "user name")
			stdin := fs.Bool("password-stdin", false, "read the password (or token) from stdin")
			identityToken := fs.Bool("identity-token", false, "what stdin holds is an identity (refresh) token, not a password")
			var rf registryFlags
			rf.apply(fs)
			return func(e *env, args []string) error {
				host := args[0]
				if strings.ContainsAny(host, "/@") {
					return usagef("login takes a registry host[:port], got %q", host)
				}
				if !*stdin {
					return usagef("give the password on stdin with --password-stdin (a password on the command line would show in ps and shell history)")
				}
				secret, err := readSecret(os.Stdin)
				if err != nil {
					return err
				}
				cred := registry.Credential{Username: *user, Password: secret}
				if *identityToken {
					cred = registry.Credential{RefreshToken: secret}
				} else if *user == "" {
					return usagef("--username is required with a password")
				}
				store, err := registry.DockerCredentials()
				if err != nil {
					return err
				}
				o, err := rf.clientOptions()
				if err != nil {
					return err
				}
				if err := registry.Login(e.ctx, host, cred, store, o); err != nil {
					return err
				}
				e.infof("login to %s succeeded; credentials saved", host)
				if e.json() {
					return e.printJSON(map[string]any{"registry": host, "loggedIn": true})
				}
				return nil
			}
		},
	})
	register(&command{
		name:    "logout",
		args:    "REGISTRY",
		short:   "remove a registry's credentials from the Docker config (or its credential helper)",
		long:    "oci-pack logout registry.local",
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				store, err := registry.DockerCredentials()
				if err != nil {
					return err
				}
				if err := registry.Logout(e.ctx, args[0], store); err != nil {
					return err
				}
				if e.json() {
					return e.printJSON(map[string]any{"registry": args[0], "loggedIn": false})
				}
				return nil
			}
		},
	})
}

// readSecret reads one line (at most 64 KiB) from stdin, without its line
// ending. It is never echoed or printed.
func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("no password on stdin")
	}
	return line, nil
}
