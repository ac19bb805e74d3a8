package archive

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/oci-pack/oci-pack/cas/fsx"
)

// SidecarSuffix names the checksum file beside an export: FILE.sha256 for
// FILE or for its volumes FILE.000, FILE.001, …
const SidecarSuffix = ".sha256"

// SignatureSuffix names a signed transfer's bundle beside an export's
// sidecar: FILE.sigstore.json, which vouches for FILE.sha256
// (layout/sign writes and checks it).
const SignatureSuffix = ".sigstore.json"

// maxSidecar bounds a sidecar file.
const maxSidecar = 1 << 20

// formatSidecar renders volumes in `sha256sum -c` format (text mode, base
// names, GNU escaping of backslash, newline and carriage return).
func formatSidecar(vols []Volume) []byte {
	var b bytes.Buffer
	for _, v := range vols {
		name := filepath.Base(v.Path)
		if strings.ContainsAny(name, "\\\n\r") {
			b.WriteByte('\\')
			name = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(name)
		}
		fmt.Fprintf(&b, "%s  %s\n", v.Digest.Encoded(), name)
	}
	return b.Bytes()
}

// readSidecar parses a sha256sum file into base name → digest. Lines in
// binary mode ("hex *name") and escaped lines are accepted; anything else
// is an error naming the line. The user did not name the sidecar, so it
// is opened by fsx.OpenUnnamed: anything but a regular file is refused.
func readSidecar(path string) (map[string]digest.Digest, error) {
	sums, _, err := readSidecarDigest(path)
	return sums, err
}

// readSidecarDigest is readSidecar that also returns the digest of the
// bytes it parsed (what a signed transfer names).
func readSidecarDigest(path string) (map[string]digest.Digest, digest.Digest, error) {
	f, _, err := fsx.OpenUnnamed(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSidecar+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxSidecar {
		return nil, "", fmt.Errorf("%s: larger than %d bytes: %w", path, maxSidecar, ErrChecksum)
	}
	sums, err := parseSidecar(path, b)
	return sums, digest.FromBytes(b), err
}

// parseSidecar parses the sha256sum lines b (read from path).
func parseSidecar(path string, b []byte) (map[string]digest.Digest, error) {
	sums := map[string]digest.Digest{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		escaped := strings.HasPrefix(line, `\`)
		line = strings.TrimPrefix(line, `\`)
		hex, name, ok := strings.Cut(line, " ")
		if !ok || len(name) < 2 || (name[0] != ' ' && name[0] != '*') {
			return nil, fmt.Errorf("%s line %d: not in sha256sum format: %w", path, n, ErrChecksum)
		}
		name = name[1:]
		if escaped {
			name = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\r`, "\r").Replace(name)
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if d.Validate() != nil {
			return nil, fmt.Errorf("%s line %d: %q is not a sha256: %w", path, n, hex, ErrChecksum)
		}
		name = filepath.Base(name)
		if _, dup := sums[name]; dup {
			return nil, fmt.Errorf("%s line %d: %s listed twice: %w", path, n, name, ErrChecksum)
		}
		sums[name] = d
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", path, err, ErrChecksum)
	}
	return sums, nil
}
