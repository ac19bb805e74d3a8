package fuzztest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
)

func TestTarScript(t *testing.T) {
	b, err := TarScript(strings.Join([]string{
		"5|d/||",
		"0|d/{h}||hello|world",
		"0750|d/s{s1}||digest {h1}",
		"2|d/l|{h1}|ignored",
		"g|pax||note",
		"",
	}, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("hello|world"))
	hexs := hex.EncodeToString(sum[:])
	want := []struct {
		typ        byte
		name, link string
		mode       int64
		body       string
	}{
		{tar.TypeDir, "d/", "", 0o644, ""},
		{tar.TypeReg, "d/" + hexs, "", 0o644, "hello|world"},
		{tar.TypeReg, "d/s11", "", 0o750, "digest " + hexs},
		{tar.TypeSymlink, "d/l", hexs, 0o644, ""},
	}
	tr := tar.NewReader(bytes.NewReader(b))
	for i, w := range want {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != w.typ || h.Name != w.name || h.Linkname != w.link || h.Mode != w.mode || string(body) != w.body {
			t.Errorf("entry %d: %c %q → %q mode %o body %q; want %c %q → %q mode %o body %q",
				i, h.Typeflag, h.Name, h.Linkname, h.Mode, body, w.typ, w.name, w.link, w.mode, w.body)
		}
	}
	if h, err := tr.Next(); err != nil || h.Typeflag != tar.TypeXGlobalHeader || h.Name != "pax" || h.PAXRecords["comment"] != "note" {
		t.Errorf("global header: %+v, %v", h, err)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("after the entries: %v, want EOF", err)
	}
	for _, bad := range []string{"0|only|two", "|a||", "0x|a||", "0|./||x"} {
		if _, err := TarScript(bad); err == nil {
			t.Errorf("TarScript(%q) built an archive; want an error", bad)
		}
	}
	if _, err := TarScript(strings.Repeat("0|a||\n", MaxScriptEntries+1)); err == nil {
		t.Errorf("%d entries accepted; the limit is %d", MaxScriptEntries+1, MaxScriptEntries)
	}
}

func TestCorpusFile(t *testing.T) {
	b, err := CorpusFile([]byte("a\x00"), "s\n", byte('x'), int64(-3), true)
	if err != nil {
		t.Fatal(err)
	}
	want := "go test fuzz v1\n[]byte(\"a\\x00\")\nstring(\"s\\n\")\nbyte('x')\nint64(-3)\nbool(true)\n"
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	if _, err := CorpusFile(3.5); err == nil {
		t.Error("float64 accepted")
	}
}
