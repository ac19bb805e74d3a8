package strictjson

import "testing"

func TestFoldKeyClasses(t *testing.T) {
	for _, c := range [][2]string{{"size", "SIZE"}, {"size", "ſize"}, {"Kind", "\u212aind"}, {"mediaType", "MEDIATYPE"}, {"digest", "Digest"}} {
		if foldKey(c[0]) != foldKey(c[1]) {
			t.Errorf("%q and %q fold apart: %q vs %q", c[0], c[1], foldKey(c[0]), foldKey(c[1]))
		}
	}
	if foldKey("size") == foldKey("sizf") {
		t.Error("distinct keys fold together")
	}
	if err := Check([]byte(`{"size":1,"ſize":2}`)); err == nil {
		t.Error("long-s duplicate not caught")
	}
	if err := Check([]byte(`{"kind":1,"\u212aind":2}`)); err == nil {
		t.Error("Kelvin duplicate not caught")
	}
}

// Objects past the small-object size switch to the folded map and still
// catch a case variant of an early key.
func TestLargeObjectDuplicates(t *testing.T) {
	b := []byte(`{"Digest":0`)
	for i := 0; i < 3*smallObject; i++ {
		b = append(b, []byte(`,"k`+string(rune('a'+i%26))+string(rune('a'+i/26))+`":0`)...)
	}
	ok := append(append([]byte{}, b...), '}')
	if err := Check(ok); err != nil {
		t.Fatalf("distinct keys: %v", err)
	}
	dup := append(b, []byte(`,"diGEST":1}`)...)
	if err := Check(dup); err == nil {
		t.Fatal("case variant of an early key not caught in a large object")
	}
}
