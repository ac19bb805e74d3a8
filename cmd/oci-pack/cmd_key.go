package main

import (
	"fmt"

	"github.com/oci-pack/oci-pack/layout/sign"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:  "key",
		args:  "generate",
		short: "make a signing key pair in cosign's format (PREFIX.key encrypted, PREFIX.pub)",
		long: `oci-pack key generate                          # cosign.key (mode 0600) and cosign.pub
OCI_PACK_PASSWORD=… oci-pack key generate --output-key-prefix keys/release
cosign generate-key-pair                       # keys from cosign work as well`,
		minArgs: 1, maxArgs: 1,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			prefix := fs.String("output-key-prefix", "cosign", "write PREFIX.key and PREFIX.pub")
			return func(e *env, args []string) error {
				if args[0] != "generate" {
					return usagef("unknown key subcommand %q: expected generate", args[0])
				}
				priv, pub, err := sign.GenerateKeyPair(keyPassword(e))
				if err != nil {
					return err
				}
				privPath, pubPath, err := sign.WriteKeyPair(*prefix, priv, pub)
				if err != nil {
					return err
				}
				e.infof("private key written to %s (encrypted; keep it outside any layout)", privPath)
				e.infof("public key written to %s", pubPath)
				if e.json() {
					return e.printJSON(map[string]string{"privateKey": privPath, "publicKey": pubPath})
				}
				fmt.Fprintln(e.stdout, pubPath)
				return nil
			}
		},
	})
}
