//go:build linux

package crash

import (
	"testing"

	"github.com/oci-pack/oci-pack/cmd/oci-pack/reliability/rtest"
)

func TestMain(m *testing.M) { rtest.Main(m) }
