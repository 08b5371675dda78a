package abi

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
)

// Encode lays the Go value v out as l's C type and returns the bytes. v is
// a struct (or pointer to one) for a C struct or union, an integer, float
// or bool for a scalar, and an array, slice or string for a C array.
//
// Go struct fields are matched to C members by the tag `abi:"st_dev"` or,
// without a tag, by name ignoring case and underscores (StDev matches
// st_dev). Every exported Go field must match a member; members without a
// Go field are left zero. Padding bytes are zero. A flexible array tail is
// appended after the fixed part, so the result may be longer than l.Size.
func (l *Layout) Encode(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	n := l.Size
	if off, ok := l.FlexOffset(); ok {
		tail, err := flexLen(l, rv)
		if err != nil {
			return nil, err
		}
		n = max(n, off+tail)
	}
	b := make([]byte, n)
	if err := l.EncodeTo(b, v); err != nil {
		return nil, err
	}
	return b, nil
}

// EncodeTo writes v into b, which must hold l.Size bytes (plus any flexible
// tail). Bytes of b that no member covers are left as they are, so a
// caller can pre-fill padding with a pattern.
func (l *Layout) EncodeTo(b []byte, v any) error {
	if len(b) < l.Size {
		return &ShortError{What: l.Type.name, Need: l.Size, Have: len(b)}
	}
	return l.encode(b, reflect.ValueOf(v), l.Type.name)
}

// Decode reads b as l's C type into the Go value v points to, with the
// same field matching as Encode. Go fields without a C member are an
// error; C members without a Go field are skipped. A flexible array tail
// takes the bytes of b after its offset.
func (l *Layout) Decode(b []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("abi: decode %s into non-pointer %T", l.Type.name, v)
	}
	if len(b) < l.Size {
		return &ShortError{What: l.Type.name, Need: l.Size, Have: len(b)}
	}
	return l.decode(b, rv.Elem(), l.Type.name)
}

func deref(rv reflect.Value) reflect.Value {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return reflect.Value{}
		}
		rv = rv.Elem()
	}
	return rv
}

func (l *Layout) encode(b []byte, rv reflect.Value, path string) error {
	rv = deref(rv)
	if !rv.IsValid() {
		return nil // nil pointer: leave zero
	}
	switch l.Type.kind {
	case KindScalar:
		return l.encodeScalar(b, rv, path)
	case KindArray:
		return l.encodeArray(b, rv, path)
	default:
		return l.encodeAggregate(b, rv, path)
	}
}

func (l *Layout) encodeScalar(b []byte, rv reflect.Value, path string) error {
	o := l.ABI.ByteOrder()
	var bits uint64
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v := rv.Int()
		if l.Type.float {
			bits = floatBits(float64(v), l.Size)
			break
		}
		if !fitsEither(v, l.Size) {
			return &RangeError{Path: path, Type: l.Type, Size: l.Size, Value: fmt.Sprint(v)}
		}
		bits = uint64(v)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v := rv.Uint()
		if l.Type.float {
			bits = floatBits(float64(v), l.Size)
			break
		}
		if !FitsUnsigned(v, l.Size) {
			return &RangeError{Path: path, Type: l.Type, Size: l.Size, Value: fmt.Sprint(v)}
		}
		bits = v
	case reflect.Float32, reflect.Float64:
		if !l.Type.float {
			return fmt.Errorf("abi: %s: cannot store a Go %s in C %s", path, rv.Type(), l.Type.name)
		}
		bits = floatBits(rv.Float(), l.Size)
	case reflect.Bool:
		if rv.Bool() {
			bits = 1
		}
	default:
		return fmt.Errorf("abi: %s: cannot store a Go %s in C %s", path, rv.Type(), l.Type.name)
	}
	PutUint(o, b, l.Size, bits)
	return nil
}

func (l *Layout) encodeArray(b []byte, rv reflect.Value, path string) error {
	n := l.Type.n
	if rv.Kind() == reflect.String {
		if l.Elem.Size != 1 {
			return fmt.Errorf("abi: %s: a string fits only a char array, not %s", path, l.Type.name)
		}
		if n >= 0 && rv.Len() > n {
			return &RangeError{Path: path, Type: l.Type, Size: l.Size, Value: fmt.Sprintf("string of %d bytes", rv.Len())}
		}
		copy(b, rv.String())
		return nil
	}
	if rv.Kind() != reflect.Array && rv.Kind() != reflect.Slice {
		return fmt.Errorf("abi: %s: cannot store a Go %s in C %s", path, rv.Type(), l.Type.name)
	}
	if n >= 0 && rv.Len() > n {
		return &RangeError{Path: path, Type: l.Type, Size: l.Size, Value: fmt.Sprintf("%d elements", rv.Len())}
	}
	for i := 0; i < rv.Len(); i++ {
		off := i * l.Elem.Size
		if off+l.Elem.Size > len(b) {
			return &ShortError{What: path, Need: off + l.Elem.Size, Have: len(b)}
		}
		if err := l.Elem.encode(b[off:], rv.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func (l *Layout) encodeAggregate(b []byte, rv reflect.Value, path string) error {
	if rv.Kind() != reflect.Struct {
		return fmt.Errorf("abi: %s: cannot store a Go %s in C %s", path, rv.Type(), l.Type.name)
	}
	idx, err := l.match(rv.Type())
	if err != nil {
		return err
	}
	set := 0
	for i, f := range l.Fields {
		gi, ok := idx[i]
		if !ok {
			continue
		}
		fv := rv.Field(gi)
		if l.Type.kind == KindUnion {
			if fv.IsZero() {
				continue
			}
			if set++; set > 1 {
				return fmt.Errorf("abi: %s: more than one member of %s is set", path, l.Type.name)
			}
		}
		dst := b[f.Offset:]
		if f.Type.IsFlexible() {
			// The tail was sized by Encode; EncodeTo callers size it.
			if err := f.encode(dst, fv, path+"."+f.Name); err != nil {
				return err
			}
			continue
		}
		if err := f.encode(dst[:f.Size], fv, path+"."+f.Name); err != nil {
			return err
		}
	}
	return nil
}

func (l *Layout) decode(b []byte, rv reflect.Value, path string) error {
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		rv = rv.Elem()
	}
	switch l.Type.kind {
	case KindScalar:
		return l.decodeScalar(b, rv, path)
	case KindArray:
		return l.decodeArray(b, rv, path)
	default:
		if rv.Kind() != reflect.Struct {
			return fmt.Errorf("abi: %s: cannot read C %s into a Go %s", path, l.Type.name, rv.Type())
		}
		idx, err := l.match(rv.Type())
		if err != nil {
			return err
		}
		for i, f := range l.Fields {
			gi, ok := idx[i]
			if !ok {
				continue
			}
			src := b[f.Offset:]
			if !f.Type.IsFlexible() {
				src = src[:f.Size]
			}
			if err := f.decode(src, rv.Field(gi), path+"."+f.Name); err != nil {
				return err
			}
		}
		return nil
	}
}

func (l *Layout) decodeScalar(b []byte, rv reflect.Value, path string) error {
	bits := Uint(l.ABI.ByteOrder(), b, l.Size)
	signed := l.Type.Signed(l.ABI)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v := int64(bits)
		if signed {
			v = SignExtend(bits, l.Size)
		}
		if rv.OverflowInt(v) {
			return fmt.Errorf("abi: %s: C %s value %d overflows Go %s", path, l.Type.name, v, rv.Type())
		}
		rv.SetInt(v)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.OverflowUint(bits) {
			return fmt.Errorf("abi: %s: C %s value %d overflows Go %s", path, l.Type.name, bits, rv.Type())
		}
		rv.SetUint(bits)
	case reflect.Float32, reflect.Float64:
		if !l.Type.float {
			return fmt.Errorf("abi: %s: cannot read C %s into a Go %s", path, l.Type.name, rv.Type())
		}
		rv.SetFloat(bitsFloat(bits, l.Size))
	case reflect.Bool:
		rv.SetBool(bits != 0)
	default:
		return fmt.Errorf("abi: %s: cannot read C %s into a Go %s", path, l.Type.name, rv.Type())
	}
	return nil
}

func (l *Layout) decodeArray(b []byte, rv reflect.Value, path string) error {
	n := l.Type.n
	if n < 0 {
		n = len(b) / max(l.Elem.Size, 1)
	}
	switch rv.Kind() {
	case reflect.String:
		raw := b[:n*l.Elem.Size]
		if i := bytes.IndexByte(raw, 0); i >= 0 {
			raw = raw[:i]
		}
		rv.SetString(string(raw))
		return nil
	case reflect.Slice:
		rv.Set(reflect.MakeSlice(rv.Type(), n, n))
	case reflect.Array:
		if rv.Len() != n {
			return fmt.Errorf("abi: %s: C %s has %d elements, Go %s has %d", path, l.Type.name, n, rv.Type(), rv.Len())
		}
	default:
		return fmt.Errorf("abi: %s: cannot read C %s into a Go %s", path, l.Type.name, rv.Type())
	}
	for i := 0; i < n; i++ {
		off := i * l.Elem.Size
		if err := l.Elem.decode(b[off:off+l.Elem.Size], rv.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// match maps member index → Go field index, failing on Go fields that
// match no member.
func (l *Layout) match(gt reflect.Type) (map[int]int, error) {
	byName := make(map[string]int, len(l.Fields))
	for i, f := range l.Fields {
		byName[f.Name] = i
		byName[fold(f.Name)] = i
	}
	out := make(map[int]int, gt.NumField())
	for gi := 0; gi < gt.NumField(); gi++ {
		sf := gt.Field(gi)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("abi")
		if tag == "-" {
			continue
		}
		key := fold(sf.Name)
		if tag != "" {
			key = tag
		}
		mi, ok := byName[key]
		if !ok {
			return nil, fmt.Errorf("abi: Go field %s.%s matches no member of %s", gt.Name(), sf.Name, l.Type.name)
		}
		out[mi] = gi
	}
	return out, nil
}

func fold(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// flexLen returns the byte length of the flexible tail value in rv.
func flexLen(l *Layout, rv reflect.Value) (int, error) {
	rv = deref(rv)
	if !rv.IsValid() || rv.Kind() != reflect.Struct {
		return 0, nil
	}
	idx, err := l.match(rv.Type())
	if err != nil {
		return 0, err
	}
	last := len(l.Fields) - 1
	gi, ok := idx[last]
	if !ok {
		return 0, nil
	}
	fv := deref(rv.Field(gi))
	if !fv.IsValid() {
		return 0, nil
	}
	switch fv.Kind() {
	case reflect.String, reflect.Slice, reflect.Array:
		return fv.Len() * l.Fields[last].Elem.Size, nil
	}
	return 0, nil
}
