package main

import (
	"fmt"
	"os"

	"github.com/oci-pack/oci-pack/layout/sign"
	"golang.org/x/term"
)

// passwordEnv are the variables a key password is read from, in order;
// COSIGN_PASSWORD is cosign's, so keys and scripts carry over.
var passwordEnv = []string{"OCI_PACK_PASSWORD", "COSIGN_PASSWORD"}

// keyPassword is the sign.PassFunc of the CLI: the first of passwordEnv
// that is set (even empty, as cosign reads it), else a prompt on the
// terminal (twice when confirm), else a usage error naming the variables.
func keyPassword(e *env) sign.PassFunc {
	return func(confirm bool) ([]byte, error) {
		for _, v := range passwordEnv {
			if p, ok := os.LookupEnv(v); ok {
				return []byte(p), nil
			}
		}
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil || !term.IsTerminal(int(tty.Fd())) {
			if tty != nil {
				tty.Close()
			}
			return nil, usagef("the key needs a password: set OCI_PACK_PASSWORD (or COSIGN_PASSWORD), or run on a terminal")
		}
		defer tty.Close()
		read := func(prompt string) ([]byte, error) {
			fmt.Fprint(tty, prompt)
			p, err := term.ReadPassword(int(tty.Fd()))
			fmt.Fprintln(tty)
			return p, err
		}
		p, err := read("Enter password for private key: ")
		if err != nil || !confirm {
			return p, err
		}
		again, err := read("Enter password for private key again: ")
		if err != nil {
			return nil, err
		}
		if string(p) != string(again) {
			return nil, usagef("the passwords do not match")
		}
		return p, nil
	}
}
