package registry

import (
	"testing"

	"github.com/oci-pack/oci-pack/layout"
	"github.com/opencontainers/go-digest"
)

func TestIsReference(t *testing.T) {
	for s, want := range map[string]bool{
		"registry.local/models/llama:v1":                             true,
		"localhost:5000/llama":                                       true,
		"localhost/llama@sha256:" + digest.FromString("x").Encoded(): true,
		"127.0.0.1:5000/a/b":                                         true,
		"10.0.0.1/a":                                                 true,
		"[::1]:5000/a":                                               true,
		"models:llama":                                               false,
		"models/sub:v1":                                              false,
		"./models:v1":                                                false,
		"../x/y":                                                     false,
		"/abs/layout:v1":                                             false,
		"C:/layouts/x":                                               false,
		"layout.d":                                                   false,
		".hidden.dir/x":                                              false,
		"models.v2/x":                                                true, // a dotted first component is a host (DESIGN §5b)
	} {
		if got := IsReference(s); got != want {
			t.Errorf("IsReference(%q) = %v, want %v", s, got, want)
		}
	}
	if _, err := ParseReference("registry.local/a:v1@sha256:" + digest.FromString("x").Encoded()); err == nil {
		t.Error("a reference with both a tag and a digest was accepted")
	}
}

func TestParseRange(t *testing.T) {
	for v, want := range map[string]int64{"0-99": 99, "bytes=0-0": 0, "0-1048575": 1048575} {
		if got, ok := parseRange(v); !ok || got != want {
			t.Errorf("parseRange(%q) = %d, %v", v, got, ok)
		}
	}
	for _, v := range []string{"", "5-9", "0-", "0--1", "junk"} {
		if _, ok := parseRange(v); ok {
			t.Errorf("parseRange(%q) accepted", v)
		}
	}
}

// Upload state naming another host, scheme or blob is ignored: a planted
// state file must not send the layout's blobs elsewhere.
func TestLoadUploadRefusesForeignState(t *testing.T) {
	l, err := layout.Open(t.TempDir(), layout.Options{Mode: layout.ReadWrite, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r, err := NewRemote("registry.local:5000/models/m", ClientOptions{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("blob")
	good := uploadState{Registry: "registry.local:5000", Repository: "models/m", Digest: d, Size: 4,
		Location: "http://registry.local:5000/v2/models/m/blobs/uploads/u1?_state=x", Offset: 2}
	if err := saveState(l, uploadStateName(r, d), good); err != nil {
		t.Fatal(err)
	}
	if loadUpload(l, r, d, 4) == nil {
		t.Fatal("good state not loaded")
	}
	for name, bad := range map[string]func(*uploadState){
		"other host":    func(s *uploadState) { s.Location = "http://evil.example/v2/x/blobs/uploads/u1" },
		"https→http":    func(s *uploadState) { s.Location = "https://registry.local:5000/v2/models/m/blobs/uploads/u1" },
		"credentials":   func(s *uploadState) { s.Location = "http://u:p@registry.local:5000/v2/x" },
		"other repo":    func(s *uploadState) { s.Repository = "other" },
		"offset > size": func(s *uploadState) { s.Offset = 5 },
	} {
		st := good
		bad(&st)
		saveState(l, uploadStateName(r, d), st)
		if loadUpload(l, r, d, 4) != nil {
			t.Errorf("%s: state loaded", name)
		}
	}
	if err := l.WriteState(uploadStateName(r, d), []byte(`{"registry":"registry.local:5000","registry":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if loadUpload(l, r, d, 4) != nil {
		t.Error("state with duplicate keys loaded")
	}
}
