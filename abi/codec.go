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
	switch {
	case l.Type.base == BaseLongDouble:
		return l.rawBytes(b, rv, path)
	case l.Type.complex:
		return l.encodeComplex(b, rv, path)
	case l.Type.base == BaseInt128:
		return l.encodeInt128(b, rv, path)
	}
	o := l.ABI.ByteOrder()
	var bits uint64
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v := rv.Int()
		if l.Type.float {
			bits = floatBits(float64(v), l.Size)
			break
		}
		if !fitsEither(v, l.Size) || (l.Type.base == BaseBool && (v < 0 || v > 1)) {
			return &RangeError{Path: path, Type: l.Type, Size: l.Size, Value: fmt.Sprint(v)}
		}
		bits = uint64(v)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v := rv.Uint()
		if l.Type.float {
			bits = floatBits(float64(v), l.Size)
			break
		}
		if !FitsUnsigned(v, l.Size) || (l.Type.base == BaseBool && v > 1) {
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

// rawBytes stores a long double (or its complex) from a Go byte array or
// slice of exactly its size: Go has no type of any of its formats.
func (l *Layout) rawBytes(b []byte, rv reflect.Value, path string) error {
	if (rv.Kind() != reflect.Array && rv.Kind() != reflect.Slice) || rv.Type().Elem().Kind() != reflect.Uint8 {
		return fmt.Errorf("abi: %s: C %s has no Go equivalent; give its %d bytes as a [%d]byte", path, l.Type.name, l.Size, l.Size)
	}
	if rv.Len() != l.Size {
		return fmt.Errorf("abi: %s: C %s is %d bytes on %s, not %d", path, l.Type.name, l.Size, l.ABI.Name, rv.Len())
	}
	for i := 0; i < l.Size; i++ {
		b[i] = byte(rv.Index(i).Uint())
	}
	return nil
}

func (l *Layout) encodeComplex(b []byte, rv reflect.Value, path string) error {
	if rv.Kind() != reflect.Complex64 && rv.Kind() != reflect.Complex128 {
		return fmt.Errorf("abi: %s: cannot store a Go %s in C %s", path, rv.Type(), l.Type.name)
	}
	c, part := rv.Complex(), l.Size/2
	o := l.ABI.ByteOrder()
	PutUint(o, b, part, floatBits(real(c), part))
	PutUint(o, b[part:], part, floatBits(imag(c), part))
	return nil
}

// encodeInt128 stores a Go integer, sign- or zero-extended, or a [16]byte
// holding the bytes as they are.
func (l *Layout) encodeInt128(b []byte, rv reflect.Value, path string) error {
	var hi, lo uint64
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v := rv.Int()
		lo = uint64(v)
		if v < 0 {
			hi = ^uint64(0)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		lo = rv.Uint()
	case reflect.Bool:
		if rv.Bool() {
			lo = 1
		}
	default:
		return l.rawBytes(b, rv, path)
	}
	putInt128(l.ABI.ByteOrder(), b, hi, lo, l.ABI.BigEndian())
	return nil
}

func putInt128(o ByteOrder, b []byte, hi, lo uint64, big bool) {
	if big {
		o.PutUint64(b, hi)
		o.PutUint64(b[8:], lo)
	} else {
		o.PutUint64(b, lo)
		o.PutUint64(b[8:], hi)
	}
}

func getInt128(o ByteOrder, b []byte, big bool) (hi, lo uint64) {
	if big {
		return o.Uint64(b), o.Uint64(b[8:])
	}
	return o.Uint64(b[8:]), o.Uint64(b)
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
	ms, idx, err := l.match(rv.Type())
	if err != nil {
		return err
	}
	chosen := map[*Layout]int{}
	for mi, m := range ms {
		gi, ok := idx[mi]
		if !ok {
			continue
		}
		fv := rv.Field(gi)
		if len(m.unions) > 0 {
			if fv.IsZero() {
				continue
			}
			for _, u := range m.unions {
				if prev, ok := chosen[u.layout]; ok && prev != u.member {
					return fmt.Errorf("abi: %s: more than one member of %s is set", path, u.layout.Type.name)
				}
				chosen[u.layout] = u.member
			}
		}
		mpath := path + "." + m.Name
		if m.BitField {
			if err := m.encodeBits(b, fv, mpath, l.ABI); err != nil {
				return err
			}
			continue
		}
		dst := b[m.Offset:]
		if m.Type.IsFlexible() {
			// The tail was sized by Encode; EncodeTo callers size it.
			if err := m.encode(dst, fv, mpath); err != nil {
				return err
			}
			continue
		}
		if err := m.encode(dst[:m.Size], fv, mpath); err != nil {
			return err
		}
	}
	return nil
}

// encodeBits stores a Go integer or bool into bit-field m of the
// aggregate whose bytes are b.
func (m member) encodeBits(b []byte, rv reflect.Value, path string, d *Descriptor) error {
	rv = deref(rv)
	if !rv.IsValid() {
		return nil
	}
	var v int64
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v = rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u>>63 != 0 && m.Bits < 64 {
			return &RangeError{Path: path, Type: m.Type, Size: m.Size, Value: fmt.Sprint(u), Bits: m.Bits}
		}
		v = int64(u)
	case reflect.Bool:
		if rv.Bool() {
			v = 1
		}
	default:
		return fmt.Errorf("abi: %s: cannot store a Go %s in the C bit-field %s : %d", path, rv.Type(), m.Type.name, m.Bits)
	}
	if !fitsBits(v, m.Bits, m.Type.Signed(d)) || (m.Type.base == BaseBool && (v < 0 || v > 1)) {
		return &RangeError{Path: path, Type: m.Type, Size: m.Size, Value: fmt.Sprint(v), Bits: m.Bits}
	}
	putBitsExt(b, m.BitPos(), m.Bits, uint64(v), v < 0, d.BigEndian())
	return nil
}

// decodeBits reads bit-field m of the aggregate whose bytes are b into rv.
func (m member) decodeBits(b []byte, rv reflect.Value, path string, d *Descriptor) error {
	raw := getBits(b, m.BitPos(), m.Bits, d.BigEndian())
	v := int64(raw)
	if m.Type.Signed(d) {
		v = signExtendBits(raw, m.Bits)
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.OverflowInt(v) {
			return fmt.Errorf("abi: %s: C bit-field value %d overflows Go %s", path, v, rv.Type())
		}
		rv.SetInt(v)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if v < 0 || rv.OverflowUint(uint64(v)) {
			return fmt.Errorf("abi: %s: C bit-field value %d overflows Go %s", path, v, rv.Type())
		}
		rv.SetUint(uint64(v))
	case reflect.Bool:
		rv.SetBool(v != 0)
	default:
		return fmt.Errorf("abi: %s: cannot read the C bit-field %s : %d into a Go %s", path, m.Type.name, m.Bits, rv.Type())
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
		ms, idx, err := l.match(rv.Type())
		if err != nil {
			return err
		}
		for mi, m := range ms {
			gi, ok := idx[mi]
			if !ok {
				continue
			}
			fv := rv.Field(gi)
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					fv.Set(reflect.New(fv.Type().Elem()))
				}
				fv = fv.Elem()
			}
			if m.BitField {
				if err := m.decodeBits(b, fv, path+"."+m.Name, l.ABI); err != nil {
					return err
				}
				continue
			}
			src := b[m.Offset:]
			if !m.Type.IsFlexible() {
				src = src[:m.Size]
			}
			if err := m.decode(src, fv, path+"."+m.Name); err != nil {
				return err
			}
		}
		return nil
	}
}

func (l *Layout) decodeScalar(b []byte, rv reflect.Value, path string) error {
	switch {
	case l.Type.base == BaseLongDouble || (l.Type.base == BaseInt128 && rv.Kind() == reflect.Array):
		if rv.Kind() != reflect.Array || rv.Type().Elem().Kind() != reflect.Uint8 || rv.Len() != l.Size {
			return fmt.Errorf("abi: %s: read C %s (%d bytes on %s) into a [%d]byte, not a Go %s", path, l.Type.name, l.Size, l.ABI.Name, l.Size, rv.Type())
		}
		reflect.Copy(rv, reflect.ValueOf(b[:l.Size]))
		return nil
	case l.Type.complex:
		if rv.Kind() != reflect.Complex64 && rv.Kind() != reflect.Complex128 {
			return fmt.Errorf("abi: %s: cannot read C %s into a Go %s", path, l.Type.name, rv.Type())
		}
		part := l.Size / 2
		o := l.ABI.ByteOrder()
		rv.SetComplex(complex(bitsFloat(Uint(o, b, part), part), bitsFloat(Uint(o, b[part:], part), part)))
		return nil
	case l.Type.base == BaseInt128:
		return l.decodeInt128(b, rv, path)
	}
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

// member is one member reachable by name from an aggregate layout, with
// members of anonymous structs and unions promoted; Offset is from the
// start of that aggregate. unions lists the unions on the way to it, each
// with the index of its member the path goes through, so Encode can refuse
// to set two members of one union.
type member struct {
	FieldLayout
	unions []unionStep
}

type unionStep struct {
	layout *Layout
	member int
}

// members lists l's named members, promoted ones included, in order.
func (l *Layout) members() []member {
	var out []member
	l.collect(0, nil, &out)
	return out
}

func (l *Layout) collect(base int, unions []unionStep, out *[]member) {
	for i, f := range l.Fields {
		us := unions
		if l.Type.kind == KindUnion {
			us = append(append([]unionStep(nil), unions...), unionStep{l, i})
		}
		f.Offset += base
		switch {
		case f.Anonymous():
			f.Layout.collect(f.Offset, us, out)
		case f.Name != "":
			*out = append(*out, member{FieldLayout: f, unions: us})
		}
	}
}

// goMatch is match's answer for one Go type.
type goMatch struct {
	ms  []member
	idx map[int]int
	err error
}

// match pairs the members of a struct layout with the fields of Go struct
// type gt: member index → Go field index. Members without a Go field are
// absent; a Go field without a member is an error. Answers are cached per
// Go type; callers must not change them.
func (l *Layout) match(gt reflect.Type) ([]member, map[int]int, error) {
	if m, ok := l.matches.Load(gt); ok {
		gm := m.(*goMatch)
		return gm.ms, gm.idx, gm.err
	}
	ms, idx, err := l.matchNow(gt)
	l.matches.Store(gt, &goMatch{ms, idx, err})
	return ms, idx, err
}

func (l *Layout) matchNow(gt reflect.Type) ([]member, map[int]int, error) {
	ms := l.members()
	byName := make(map[string]int, 2*len(ms))
	for i, m := range ms {
		byName[fold(m.Name)] = i
	}
	for i, m := range ms {
		byName[m.Name] = i // an exact name wins over a folded one
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
			return nil, nil, fmt.Errorf("abi: Go field %s.%s matches no member of %s", gt.Name(), sf.Name, l.Type.name)
		}
		out[mi] = gi
	}
	return ms, out, nil
}

func fold(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// flexLen returns the byte length of the flexible tail value in rv.
func flexLen(l *Layout, rv reflect.Value) (int, error) {
	rv = deref(rv)
	if !rv.IsValid() || rv.Kind() != reflect.Struct {
		return 0, nil
	}
	ms, idx, err := l.match(rv.Type())
	if err != nil {
		return 0, err
	}
	last := len(l.Fields) - 1
	gi, ok := -1, false
	for mi, m := range ms {
		if m.Name == l.Fields[last].Name {
			gi, ok = idx[mi]
		}
	}
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

// decodeInt128 reads an __int128 into a Go integer it fits.
func (l *Layout) decodeInt128(b []byte, rv reflect.Value, path string) error {
	hi, lo := getInt128(l.ABI.ByteOrder(), b, l.ABI.BigEndian())
	signed := l.Type.Signed(l.ABI)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v := int64(lo)
		if !(hi == 0 && v >= 0) && !(signed && hi == ^uint64(0) && v < 0) || rv.OverflowInt(v) {
			return fmt.Errorf("abi: %s: C %s value %#x%016x overflows Go %s", path, l.Type.name, hi, lo, rv.Type())
		}
		rv.SetInt(v)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if hi != 0 || rv.OverflowUint(lo) {
			return fmt.Errorf("abi: %s: C %s value %#x%016x overflows Go %s", path, l.Type.name, hi, lo, rv.Type())
		}
		rv.SetUint(lo)
	default:
		return fmt.Errorf("abi: %s: cannot read C %s into a Go %s", path, l.Type.name, rv.Type())
	}
	return nil
}
