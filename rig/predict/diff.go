package predict

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi"
)

// place is where a value sits: its offset and size in bytes.
type place struct{ off, size int }

// describe names how one member differs between two places, first ABI
// first: "st_ino at 12 vs 16", "nbyte is 4 vs 8 bytes", or both.
func describe(name string, a, b place) string {
	switch {
	case a == b:
		return ""
	case a.size == b.size:
		return fmt.Sprintf("%s at %d vs %d", name, a.off, b.off)
	case a.off == b.off:
		return fmt.Sprintf("%s is %d vs %d bytes", name, a.size, b.size)
	}
	return fmt.Sprintf("%s at %d (%d bytes) vs %d (%d bytes)", name, a.off, a.size, b.off, b.size)
}

// diffLeaves compares two layouts of one C type member by member, in
// memory order, and names the first member whose offset or size
// differs. An array of scalars is compared by its first element, which
// is where a reader goes wrong. With withSize, the structs' sizes must
// also agree (a reader uses the size: COPYOUT data starts after
// rsp_copydata, a stat buffer ends at sizeof(struct stat)).
func diffLeaves(a, b *abi.Layout, withSize bool) string {
	la, lb := a.Leaves(), b.Leaves()
	for i := range min(len(la), len(lb)) {
		x, y := la[i], lb[i]
		name, px, py := x.Path, place{x.Offset, x.Size}, place{y.Offset, y.Size}
		if t := x.Type; t.Kind() == abi.KindArray {
			if t.IsFlexible() {
				// A flexible tail has no size of its own; only where it
				// starts matters.
				px.size, py.size = 0, 0
			} else if n := t.Len(); n > 0 {
				name += "[0]"
				px.size, py.size = x.Size/n, y.Size/n
			}
		}
		if d := describe(name, px, py); d != "" {
			return d
		}
	}
	if len(la) != len(lb) {
		return fmt.Sprintf("%d vs %d members", len(la), len(lb))
	}
	if withSize && a.Size != b.Size {
		return fmt.Sprintf("sizeof %d vs %d", a.Size, b.Size)
	}
	return ""
}

// diffArgs compares two layouts of one syscall's argument struct datum by
// datum, PAD slots excepted: a slot's padding may hold anything and the
// structs may differ in length without harm.
func diffArgs(a, b *abi.ArgsLayout) string {
	if a == nil || b == nil {
		return ""
	}
	for i := range min(len(a.Slots), len(b.Slots)) {
		x, y := a.Slots[i], b.Slots[i]
		if x.Pad() {
			continue
		}
		if d := describe(x.Name, place{x.Datum.Offset, x.Datum.Size}, place{y.Datum.Offset, y.Datum.Size}); d != "" {
			return d
		}
	}
	return ""
}

// diffScalar compares the size of one C scalar type.
func diffScalar(name string, a, b abi.Scalar) string {
	if a.Size == b.Size {
		return ""
	}
	if name == "" {
		return fmt.Sprintf("%d vs %d bytes", a.Size, b.Size)
	}
	return fmt.Sprintf("%s is %d vs %d bytes", name, a.Size, b.Size)
}
