//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// schemaDir holds one JSON Schema per command's --format json output.
const schemaDir = "../../docs/json"

// loadSchema compiles docs/json/NAME.schema.json.
func loadSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(schemaDir, name+".schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	s, err := c.Compile("file://" + abs)
	if err != nil {
		t.Fatalf("schema for %s: %v", name, err)
	}
	return s
}

// validJSON checks that out is one JSON document valid against the
// command's schema.
func validJSON(t *testing.T, cmd string, args []string, out string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("oci-pack %s: stdout is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	if dec.More() {
		t.Fatalf("oci-pack %s: stdout holds more than one JSON document:\n%s", strings.Join(args, " "), out)
	}
	if err := loadSchema(t, cmd).Validate(v); err != nil {
		t.Errorf("oci-pack %s: output does not match docs/json/%s.schema.json:\n%s\n%s", strings.Join(args, " "), cmd, leafErrors(err), out)
	}
}

// TestJSONSchemas runs every command with --format json and validates
// what it prints against its schema in docs/json; every command that
// prints JSON has one, and every schema names a command.
func TestJSONSchemas(t *testing.T) {
	work, _ := packed(t)
	os.WriteFile(filepath.Join(work, "sbom.json"), []byte(`{"sbom":true}`), 0o644)
	covered := map[string]bool{}
	run := func(args ...string) {
		t.Helper()
		r := ociPackEnv(t, work, signEnv, append(args, "--format", "json")...)
		if r.code != 0 {
			t.Fatalf("oci-pack %s: %v", strings.Join(args, " "), r)
		}
		validJSON(t, args[0], args, r.stdout)
		covered[args[0]] = true
	}
	run("init", "L2")
	run("init", "L2")
	run("pack", "L:v2", "src/b.bin", "--artifact-type", artifactType)
	run("pack", "L:v2", "src/a.bin", "--artifact-type", artifactType, "--tag-conflict", "skip")
	run("pack", "L:empty", "--artifact-type", artifactType)
	run("pack", "L:mp", "src/dir", "--preset", "modelpack", "--image-volume")
	run("inspect", "L:mp-image")
	run("attach", "L:v1", "sbom.json", "--artifact-type", "application/spdx+json")
	run("referrers", "L:v1")
	run("referrers", "L:v2")
	run("index", "L:all", "L:v1", "v2", "--artifact-type", "application/vnd.acme.bundle.v1")
	run("ls", "L")
	run("ls", "L2")
	run("inspect", "L:v1")
	run("inspect", "L:all")
	run("inspect", "L:empty", "--harbor")
	run("tag", "L:v1", "latest", "L:stable")
	run("tag", "L:v2", "latest", "--tag-conflict", "skip")
	run("untag", "L:latest", "stable")
	run("copy", "L:v1", "M")
	run("export", "L:v1", "-o", "x.tar", "--split-size", "1KiB")
	run("export", "L", "-o", "all.tar")
	run("import", "x.tar.000", "N")
	run("export", "L:v1", "-o", "p.tar", "--split-size", "1KiB", "--parity", "1")
	os.Remove(filepath.Join(work, "p.tar.001"))
	run("repair", "p.tar.000")
	run("extract", "L:v1", "-o", "out")
	run("verify", "L")
	run("verify", "L:v1", "L:v2")
	run("gc", "L", "--dry-run")
	run("gc", "L")
	run("du", "L")
	run("du", "L2")
	run("version")
	run("key", "generate", "--output-key-prefix", "k")
	run("sign", "L:v1", "--key", "k.key", "--legacy-tag")
	run("sign", "L:v2", "--key", "k.key")
	run("verify", "L:v1", "--key", "k.pub")
	run("export", "L:v1", "-o", "signed.tar", "--sign", "k.key")
	r0 := ociPackEnv(t, work, signEnv, "verify", "L", "--key", "k.pub", "--format", "json") // L:all, L:empty… are unsigned
	if r0.code != exitIntegrity {
		t.Fatalf("verify of unsigned tags: %v", r0)
	}
	validJSON(t, "verify", []string{"verify", "L", "--key", "k.pub"}, r0.stdout)
	// receipt prints JSON always.
	r := must(t, work, "receipt", "N")
	validJSON(t, "receipt", []string{"receipt", "N"}, r.stdout)
	covered["receipt"] = true
	// verify's problems too.
	blobs, _ := filepath.Glob(filepath.Join(work, "M", "blobs", "sha256", "*"))
	for _, b := range blobs {
		os.Chmod(b, 0o644)
		if err := os.WriteFile(b, []byte("rot"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = ociPack(t, work, "verify", "M", "--format", "json")
	if r.code != exitIntegrity {
		t.Fatalf("verify of a damaged layout: %v", r)
	}
	validJSON(t, "verify", []string{"verify", "M"}, r.stdout)

	for _, c := range visibleCommands() {
		if c.name == "completion" {
			continue
		}
		if _, err := os.Stat(filepath.Join(schemaDir, c.name+".schema.json")); err != nil {
			t.Errorf("command %s has no docs/json/%s.schema.json", c.name, c.name)
		}
		if !covered[c.name] && !registryCommands[c.name] {
			t.Errorf("command %s: its JSON is not checked here", c.name)
		}
	}
	// The schemas are strict: a missing field or an unknown one fails.
	for _, bad := range []map[string]any{{"layout": "L"}, {"layout": "L", "created": true, "extra": 1}} {
		if loadSchema(t, "init").Validate(bad) == nil {
			t.Errorf("init schema accepts %v", bad)
		}
	}
	files, _ := filepath.Glob(filepath.Join(schemaDir, "*.schema.json"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".schema.json")
		if _, ok := commands[name]; !ok {
			t.Errorf("%s documents no command", f)
		}
	}
}

// registryCommands' JSON is checked by TestJSONSchemasRegistry, which
// needs a registry.
var registryCommands = map[string]bool{"push": true, "pull": true, "login": true, "logout": true, "serve": true}

// TestJSONSchemasRegistry validates the JSON of the registry commands —
// push, pull, copy to and from a registry, login, logout, serve — against
// their schemas, with a distribution registry (skipped without one,
// unless CI=true).
func TestJSONSchemasRegistry(t *testing.T) {
	addr := startRegistry(t)
	work, _ := packed(t)
	env := append(regEnv(t), signEnv...)
	run := func(args ...string) {
		t.Helper()
		r := ociPackEnv(t, work, env, append(args, "--format", "json")...)
		if r.code != 0 {
			t.Fatalf("oci-pack %s: %v", strings.Join(args, " "), r)
		}
		validJSON(t, args[0], args, r.stdout)
	}
	run("push", "L:v1", addr+"/schemas/l:v1", "--plain-http")
	run("pull", addr+"/schemas/l:v1", "P:v1", "--plain-http")
	run("copy", addr+"/schemas/l:v1", "Q:v1", "--plain-http")
	run("copy", "L:v1", addr+"/schemas/l:v2", "--plain-http")
	// login reads the password from stdin: a file stands in.
	r := rtest.RunWith(t, rtest.Opts{Dir: work, Env: env, Bin: bin(t), Stdin: strings.NewReader("secret\n")}, "login", addr, "-u", "u", "--password-stdin", "--plain-http", "--format", "json")
	if r.Code != 0 {
		t.Fatalf("login: %+v", r)
	}
	validJSON(t, "login", []string{"login"}, r.Stdout)
	run("logout", addr)
	// serve prints one JSON line as it starts listening.
	cmd := exec.Command(bin(t), "serve", "L", "--addr", "127.0.0.1:0", "--format", "json")
	cmd.Dir = work
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	validJSON(t, "serve", []string{"serve", "L"}, line)
}

// leafErrors lists where and why a document failed its schema.
func leafErrors(err error) string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err.Error()
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(v *jsonschema.ValidationError) {
		if len(v.Causes) == 0 {
			out = append(out, fmt.Sprintf("  %s: %s", v.InstanceLocation, v.Message))
		}
		for _, c := range v.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(out, "\n")
}
