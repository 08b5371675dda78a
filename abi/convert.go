package abi

import "fmt"

// Convert re-lays bytes b, laid out as src, in layout dst: the same C type
// moved from one ABI to another. Scalars are matched by member path; a
// signed value is sign-extended and a value too wide for its destination
// (a bit-field's width included) is an error rather than a silent
// truncation. Padding in the result is zero. Both layouts must describe
// the same Type. long double has a different format on different ABIs
// (x87, IEEE quad, double-double, double), so it converts only between
// ABIs that lay everything out alike (equal LayoutKey); otherwise it is
// an error.
func Convert(dst, src *Layout, b []byte) ([]byte, error) {
	if dst.Type != src.Type {
		return nil, fmt.Errorf("abi: convert %s to %s: different types", src.Type.name, dst.Type.name)
	}
	if len(b) < src.Size {
		return nil, &ShortError{What: src.Type.name, Need: src.Size, Have: len(b)}
	}
	out := make([]byte, dst.Size)
	dl := dst.Leaves()
	sameABI := dst.ABI.layoutKey() == src.ABI.layoutKey()
	for i, sl := range src.Leaves() {
		d := dl[i] // same type, so the same leaves in the same order
		if sl.BitField() {
			if err := convertBits(dst, src, out, b, d, sl); err != nil {
				return nil, err
			}
			continue
		}
		t, n := sl.Type, 1
		if t.kind == KindArray {
			for t.kind == KindArray {
				t = t.elem
			}
			if t.kind != KindScalar {
				continue
			}
			es := src.ABI.Scalar(t.base).Size
			if es == 0 {
				continue
			}
			if t.complex {
				es *= 2
			}
			n = sl.Size / es
		}
		es, ed := sl.Size/max(n, 1), d.Size/max(n, 1)
		for k := 0; k < n; k++ {
			if err := convertScalar(dst, src, out[d.Offset+k*ed:], b[sl.Offset+k*es:], t, ed, es, sl.Path, sameABI); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func convertScalar(dst, src *Layout, out, in []byte, t *Type, dsize, ssize int, path string, sameABI bool) error {
	switch {
	case t.base == BaseLongDouble:
		if !sameABI {
			return fmt.Errorf("abi: %s: cannot convert C %s from %s to %s: its format differs between ABIs", path, t.name, src.ABI.Name, dst.ABI.Name)
		}
		copy(out[:dsize], in[:ssize])
		return nil
	case t.complex:
		part := ssize / 2
		for k := 0; k < 2; k++ {
			v := Uint(src.ABI.ByteOrder(), in[k*part:], part)
			PutUint(dst.ABI.ByteOrder(), out[k*part:], part, v)
		}
		return nil
	case t.base == BaseInt128:
		hi, lo := getInt128(src.ABI.ByteOrder(), in, src.ABI.BigEndian())
		putInt128(dst.ABI.ByteOrder(), out, hi, lo, dst.ABI.BigEndian())
		return nil
	}
	v := Uint(src.ABI.ByteOrder(), in, ssize)
	if t.Signed(src.ABI) && !t.float {
		sv := SignExtend(v, ssize)
		if !FitsSigned(sv, dsize) {
			return &RangeError{Path: path, Type: t, Size: dsize, Value: fmt.Sprint(sv)}
		}
		v = uint64(sv)
	} else if !FitsUnsigned(v, dsize) {
		return &RangeError{Path: path, Type: t, Size: dsize, Value: fmt.Sprint(v)}
	}
	PutUint(dst.ABI.ByteOrder(), out, dsize, v)
	return nil
}

func convertBits(dst, src *Layout, out, in []byte, d, s Leaf) error {
	raw := getBits(in, s.Offset*8+s.BitOffset, s.Bits, src.ABI.BigEndian())
	v := int64(raw)
	if s.Type.Signed(src.ABI) {
		v = signExtendBits(raw, s.Bits)
	}
	if !fitsBits(v, d.Bits, s.Type.Signed(dst.ABI)) {
		return &RangeError{Path: s.Path, Type: s.Type, Size: d.Size, Value: fmt.Sprint(v), Bits: d.Bits}
	}
	putBits(out, d.Offset*8+d.BitOffset, d.Bits, uint64(v), dst.ABI.BigEndian())
	return nil
}
