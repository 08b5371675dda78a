package abi

import "fmt"

// Convert re-lays bytes b, laid out as src, in layout dst: the same C type
// moved from one ABI to another. Scalars are matched by member path; a
// signed value is sign-extended and a value too wide for its destination
// is an error rather than a silent truncation. Padding in the result is
// zero. Both layouts must describe the same Type.
func Convert(dst, src *Layout, b []byte) ([]byte, error) {
	if dst.Type != src.Type {
		return nil, fmt.Errorf("abi: convert %s to %s: different types", src.Type.name, dst.Type.name)
	}
	if len(b) < src.Size {
		return nil, &ShortError{What: src.Type.name, Need: src.Size, Have: len(b)}
	}
	out := make([]byte, dst.Size)
	dl := dst.Leaves()
	for i, sl := range src.Leaves() {
		d := dl[i] // same type, so the same leaves in the same order
		if sl.Type.kind == KindArray {
			es := src.ABI.Scalar(sl.Type.elem.base).Size
			ed := dst.ABI.Scalar(d.Type.elem.base).Size
			if sl.Type.elem.kind != KindScalar || es == 0 {
				continue
			}
			for k := 0; k < sl.Size/es; k++ {
				if err := convertScalar(dst, src, out[d.Offset+k*ed:], b[sl.Offset+k*es:], sl.Type.elem, ed, es, sl.Path); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := convertScalar(dst, src, out[d.Offset:], b[sl.Offset:], sl.Type, d.Size, sl.Size, sl.Path); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func convertScalar(dst, src *Layout, out, in []byte, t *Type, dsize, ssize int, path string) error {
	v := Uint(src.ABI.ByteOrder(), in, ssize)
	if t.Signed(src.ABI) {
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
