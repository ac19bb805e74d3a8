package strictjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// structFields are the JSON names of a struct type's fields, as
// encoding/json sees them (tags, embedded structs promoted), each with the
// field's type, plus the same names folded for spotting case variants.
type structFields struct {
	exact  map[string]reflect.Type
	folded map[string]string // foldKey(name) → name
}

var fieldCache sync.Map // reflect.Type → *structFields

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// target is the type a JSON value decodes into, with pointers removed, or
// nil when nothing is known of it (an interface, a type that decodes
// itself): then its keys are not checked.
func target(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface {
		return nil
	}
	if p := reflect.PointerTo(t); p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler) {
		return nil
	}
	return t
}

// fieldsOf returns the fields of struct type t (cached).
func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{exact: map[string]reflect.Type{}, folded: map[string]string{}}
	collectFields(t, f, 0)
	fieldCache.Store(t, f)
	return f
}

func collectFields(t reflect.Type, f *structFields, depth int) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" {
			if et := target(ft); et != nil && et.Kind() == reflect.Struct && depth < 8 {
				collectFields(et, f, depth+1)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := f.exact[name]; !dup {
			f.exact[name] = ft
			f.folded[foldKey(name)] = name
		}
	}
}

// child returns the type the value under key decodes into (nil: unknown)
// and, when key matches a field of struct type t only when case is
// ignored, that field's name. encoding/json would fill the field anyway;
// a strict reader refuses, so that a document means one thing to every
// reader (RELIABILITY A-8).
func child(t reflect.Type, key string) (reflect.Type, string) {
	switch {
	case t == nil:
		return nil, ""
	case t.Kind() == reflect.Map:
		return target(t.Elem()), ""
	case t.Kind() != reflect.Struct:
		return nil, ""
	}
	f := fieldsOf(t)
	if ft, ok := f.exact[key]; ok {
		return target(ft), ""
	}
	return nil, f.folded[foldKey(key)]
}

// element returns the type of an array element of t (nil: unknown).
func element(t reflect.Type) reflect.Type {
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		return target(t.Elem())
	}
	return nil
}
