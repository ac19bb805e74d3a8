package main

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4GiB": 4 << 30, "4G": 4 << 30, "4gb": 4e9, "100MiB": 100 << 20, "64KiB": 64 << 10,
		"512k": 512 << 10, "1000000": 1e6, "7B": 7, "2T": 2 << 40,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "1.5G", "-1", "4 PiB", "4XB", "9999999999T"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestExportRefs(t *testing.T) {
	dir := t.TempDir()
	if _, refs, err := exportRefs([]string{dir + ":v1", dir + ":v2"}); err != nil || len(refs) != 2 {
		t.Errorf("two tags: %v %v", refs, err)
	}
	if _, refs, err := exportRefs([]string{dir}); err != nil || len(refs) != 0 {
		t.Errorf("whole layout: %v %v", refs, err)
	}
	for _, args := range [][]string{{dir, dir + ":v1"}, {dir + ":v1", t.TempDir() + ":v2"}} {
		if _, _, err := exportRefs(args); exitCode(err) != exitUsage {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}
