package abi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Layout is a Type placed in memory by one Descriptor: its size, its
// alignment and, for structs and unions, where each member lives. Layouts
// are immutable and safe to share: treat every field as read-only (ABI is
// the layout's own copy of the descriptor, shared by its sub-layouts).
type Layout struct {
	ABI   *Descriptor // the layout's own copy of the descriptor
	Type  *Type       // the type laid out
	Size  int         // sizeof, rounded up to Align; a flexible tail adds nothing
	Align int         // alignment inside an enclosing struct

	// Fields holds a struct's or union's members in declaration order,
	// unnamed bit-fields and anonymous members included.
	Fields []FieldLayout
	// Elem is an array's element layout.
	Elem *Layout

	padOnce sync.Once
	padding []Range
	// matches caches how Go struct types map onto the members (match):
	// encoding and decoding look it up each time, and working it out
	// again each time was most of their cost.
	matches sync.Map // reflect.Type → *goMatch
}

// FieldLayout is one member of a struct or union at its offset. For a
// bit-field, Offset is the byte that holds its first bit, BitOffset the
// bit within that byte in the ABI's bit order (from the least significant
// bit on little-endian machines, from the most significant on big-endian
// ones, so a field's bits run on across bytes as they do in an integer of
// that byte order), and Layout is its declared type's.
type FieldLayout struct {
	Name      string // the member's name ("" for anonymous and unnamed ones)
	Offset    int    // from the start of the enclosing layout, in bytes
	BitField  bool   // the member is a bit-field
	BitOffset int    // a bit-field's first bit within the byte at Offset
	Bits      int    // a bit-field's width
	*Layout          // the member's type, laid out
}

// BitPos returns the position of a member's first bit from the start of
// the enclosing layout, in the ABI's bit order: Offset*8+BitOffset.
func (f FieldLayout) BitPos() int { return f.Offset*8 + f.BitOffset }

// Anonymous reports whether the member is an anonymous struct or union,
// whose members are reached as the enclosing aggregate's own.
func (f FieldLayout) Anonymous() bool { return f.Name == "" && !f.BitField }

// ErrNoField is returned when a field path names no member.
var ErrNoField = errors.New("no such field")

// ErrNotOnABI is returned when a type uses a base type the descriptor does
// not describe (long double, __int128) or breaks one of its limits (a
// bit-field wider than long on an ILP32 ABI).
var ErrNotOnABI = errors.New("not available on this ABI")

// NewLayout lays t out for descriptor d, following GCC's rules (no
// -fshort-enums, no #pragma pack): members at their alignment, bit-fields
// packed into the storage units of their declared types, packed and
// aligned attributes, anonymous members, flexible and zero-length arrays,
// empty structs of size 0. It fails with ErrNotOnABI when t needs
// something d lacks. The layout holds its own copy of d.
//
// One GCC corner is not modelled: an aligned attribute on a bit-field
// exactly as wide as its type makes GCC lay it out as an ordinary member
// at the type's natural alignment, which on i386 differs from the
// in-struct one the descriptor records (8 rather than 4 for long long).
func NewLayout(d *Descriptor, t *Type) (*Layout, error) {
	if t == nil {
		return nil, errors.New("abi: layout of no type")
	}
	return layoutOf(d.Clone(), t)
}

// LayoutOf is NewLayout for types known to exist on d (every type built
// only from C's standard scalars does, on every valid descriptor); it
// panics on an error.
func LayoutOf(d *Descriptor, t *Type) *Layout { return Must(NewLayout(d, t)) }

func layoutOf(d *Descriptor, t *Type) (*Layout, error) {
	l := &Layout{ABI: d, Type: t}
	switch t.kind {
	case KindScalar:
		if !d.Has(t.base) {
			return nil, fmt.Errorf("abi: %s: %s %w %s (its descriptor has no %s)", t.name, t.base, ErrNotOnABI, d.Name, jsonKey(t.base))
		}
		s := d.Scalar(t.base)
		l.Size, l.Align = s.Size, s.Align
		if t.complex {
			l.Size *= 2
		}
	case KindArray:
		el, err := layoutOf(d, t.elem)
		if err != nil {
			return nil, err
		}
		if el.Size > 0 && el.Align > el.Size {
			return nil, fmt.Errorf("abi: %s: alignment %d of the array elements is greater than their size %d on %s: %w", t.name, el.Align, el.Size, d.Name, ErrNotOnABI)
		}
		l.Elem, l.Align = el, el.Align
		if t.n > 0 {
			l.Size = el.Size * t.n
		}
	case KindStruct, KindUnion:
		if err := l.placeMembers(); err != nil {
			return nil, err
		}
	}
	if t.exact != 0 {
		// A typedef's aligned(N) changes the alignment only: GCC keeps
		// sizeof (so an 8-aligned int is still 4 bytes).
		l.Align = t.exact
	}
	return l, nil
}

func jsonKey(b Base) string {
	switch b {
	case BaseLongDouble:
		return "long_double"
	case BaseInt128:
		return "int128"
	}
	return b.String()
}

// placeMembers lays out a struct's or union's members as GCC's
// place_field does with PCC_BITFIELD_TYPE_MATTERS, the rule of every
// supported ABI: a bit-field starts at the next free bit unless that
// would make it span more alignment units of its type than the type
// itself has, when it moves to the next unit; named bit-fields align the
// whole struct as their type would (unnamed ones too where the descriptor
// says so); a zero-width bit-field aligns the next member to its type;
// packing drops member alignment to 1 and the unit rule with it.
func (l *Layout) placeMembers() error {
	t, d := l.Type, l.ABI
	union := t.kind == KindUnion
	bitpos := 0 // in bits, from the start of the aggregate
	size := 0   // in bits, the union's largest member
	l.Align = 1
	for _, f := range t.fields {
		fl, err := layoutOf(d, f.Type)
		if err != nil {
			return err
		}
		packed := t.packed || f.Packed
		if union {
			bitpos = 0
		}
		if f.BitField {
			if max := bitWidthMax(f.Type, fl.Size); f.Bits > max {
				return fmt.Errorf("abi: %s: bit-field %q: width %d exceeds %s (%d bits on %s): %w", t.name, f.Name, f.Bits, f.Type.name, max, d.Name, ErrNotOnABI)
			}
			unit := 8 * fl.Align // the type's alignment unit, in bits
			switch {
			case f.Bits == 0:
				// Aligns the next member to the type; never packed.
				bitpos = alignUp(bitpos, unit)
				if d.UnnamedBitFieldsAlign {
					l.Align = max(l.Align, fl.Align)
				}
			default:
				if f.Align != 0 {
					bitpos = alignUp(bitpos, 8*f.Align)
					l.Align = max(l.Align, f.Align)
				}
				if !packed && spansTooMany(bitpos, f.Bits, unit, 8*fl.Size) {
					bitpos = alignUp(bitpos, unit)
				}
				if f.Name != "" || d.UnnamedBitFieldsAlign {
					if packed {
						l.Align = max(l.Align, 1)
					} else {
						l.Align = max(l.Align, fl.Align)
					}
				}
			}
			l.Fields = append(l.Fields, FieldLayout{Name: f.Name, Offset: bitpos / 8, BitField: true, BitOffset: bitpos % 8, Bits: f.Bits, Layout: fl})
			bitpos += f.Bits
			size = max(size, bitpos)
			continue
		}
		align := fl.Align
		switch {
		case packed && f.Align != 0:
			align = f.Align
		case packed:
			align = 1
		case f.Align != 0:
			align = max(align, f.Align)
		}
		bitpos = alignUp(bitpos, 8*align)
		l.Fields = append(l.Fields, FieldLayout{Name: f.Name, Offset: bitpos / 8, Layout: fl})
		l.Align = max(l.Align, align)
		bitpos += 8 * fl.Size
		size = max(size, bitpos)
	}
	l.Align = max(l.Align, t.align)
	l.Size = alignUp((size+7)/8, l.Align)
	return nil
}

// spansTooMany is GCC's excess_unit_span: a bit-field of width bits at
// bitpos may not cover more align-bit units than its type of typeBits
// bits has (so an i386 long long bit-field, 4-aligned, may span two
// 32-bit units wherever it starts).
func spansTooMany(bitpos, width, align, typeBits int) bool {
	off := bitpos % align
	return (off+width+align-1)/align > typeBits/align
}

func alignUp(n, a int) int {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}

// Member finds a member by a dotted path such as "st_atim.tv_sec",
// "st_spare[1]" or "cells[1][2].b" and returns it with Offset counted from
// the start of l and Name set to the path. Members of anonymous structs
// and unions are reached by their own names, as in C. An empty path, or
// one that names nothing, is an ErrNoField error.
func (l *Layout) Member(path string) (FieldLayout, error) {
	if path == "" {
		return FieldLayout{}, fmt.Errorf("abi: %s: empty field path: %w", l.Type.name, ErrNoField)
	}
	cur := FieldLayout{Layout: l}
	rest := path
	for rest != "" {
		var part string
		var dot bool
		part, rest, dot = strings.Cut(rest, ".")
		if dot && rest == "" {
			return FieldLayout{}, fmt.Errorf("abi: %s: field path %q ends in a dot: %w", l.Type.name, path, ErrNoField)
		}
		name, idxs, err := splitIndex(part)
		if err != nil {
			return FieldLayout{}, fmt.Errorf("abi: %s: field %q: %w", l.Type.name, path, err)
		}
		if cur.BitField {
			return FieldLayout{}, fmt.Errorf("abi: %s: %q goes inside a bit-field: %w", l.Type.name, path, ErrNoField)
		}
		if name == "" && (part != "" || len(idxs) == 0) {
			return FieldLayout{}, fmt.Errorf("abi: %s: empty name in field path %q: %w", l.Type.name, path, ErrNoField)
		}
		if name != "" {
			found, ok := cur.Layout.find(name)
			if !ok {
				return FieldLayout{}, fmt.Errorf("abi: %s has no field %q: %w", l.Type.name, path, ErrNoField)
			}
			found.Offset += cur.Offset
			cur = found
		}
		for _, idx := range idxs {
			if cur.BitField || cur.Type.kind != KindArray || (cur.Type.n >= 0 && idx >= cur.Type.n) {
				return FieldLayout{}, fmt.Errorf("abi: %s: index %d out of range in %q: %w", l.Type.name, idx, path, ErrNoField)
			}
			cur = FieldLayout{Offset: cur.Offset + idx*cur.Elem.Size, Layout: cur.Elem}
		}
	}
	cur.Name = path
	return cur, nil
}

// find looks a member name up among l's members, through anonymous ones;
// the offset is from the start of l.
func (l *Layout) find(name string) (FieldLayout, bool) {
	for _, f := range l.Fields {
		if f.Name == name {
			return f, true
		}
		if f.Anonymous() {
			if g, ok := f.Layout.find(name); ok {
				g.Offset += f.Offset
				return g, true
			}
		}
	}
	return FieldLayout{}, false
}

// Field finds a member by path (see Member) and returns its byte offset
// from the start of l and its layout; for a bit-field these are the byte
// holding its first bit and its declared type's layout.
func (l *Layout) Field(path string) (int, *Layout, error) {
	m, err := l.Member(path)
	if err != nil {
		return 0, nil, err
	}
	return m.Offset, m.Layout, nil
}

// splitIndex splits "name[i][j]" into the name and its indices, in
// order; multi-dimensional arrays take one index per dimension, as the
// paths Leaves reports do.
func splitIndex(part string) (name string, idxs []int, err error) {
	open := strings.IndexByte(part, '[')
	if open < 0 {
		return part, nil, nil
	}
	name, rest := part[:open], part[open:]
	for rest != "" {
		end := strings.IndexByte(rest, ']')
		if rest[0] != '[' || end < 0 {
			return "", nil, fmt.Errorf("malformed index in %q", part)
		}
		idx, err := strconv.Atoi(rest[1:end])
		if err != nil || idx < 0 {
			return "", nil, fmt.Errorf("malformed index in %q", part)
		}
		idxs = append(idxs, idx)
		rest = rest[end+1:]
	}
	return name, idxs, nil
}

// Offset returns the offset of the member at path, panicking when there is
// none. It is for descriptions known at compile time.
func (l *Layout) Offset(path string) int {
	off, _, err := l.Field(path)
	if err != nil {
		panic(err)
	}
	return off
}

// Leaf is one scalar (or array of scalars) inside a layout, reached by a
// dotted path, as a table or a byte-level comparison wants it.
type Leaf struct {
	Path   string // the member path Member and Field accept
	Offset int    // from the start of the layout, in bytes
	// Size is the whole leaf in bytes; for an array of scalars, all
	// elements; for a bit-field, the bytes its bits touch.
	Size int
	Type *Type // the leaf's C type (an array type for an array of scalars)
	// Bits is a bit-field's width (0 for other leaves) and BitOffset its
	// first bit within the byte at Offset, in the ABI's bit order (see
	// FieldLayout).
	Bits      int
	BitOffset int // see Bits
}

// BitField reports whether the leaf is a bit-field.
func (lf Leaf) BitField() bool { return lf.Bits > 0 }

// Leaves flattens l into its scalar members in memory order of
// declaration. An array whose elements are scalars is one leaf (short
// a[3] is "a"); any other array is expanded one element at a time, so an
// array of structs gives one set of leaves per element and a
// multi-dimensional array of scalars one leaf per innermost row (short
// a[2][3] gives "a[0]" and "a[1]", each a short[3]). Members of anonymous
// structs and unions appear under their own names; unnamed bit-fields do
// not appear; named bit-fields do, with their width. Union members all
// appear, overlapping. A zero-length or flexible array is one leaf.
func (l *Layout) Leaves() []Leaf {
	var out []Leaf
	l.leaves("", 0, &out)
	return out
}

func (l *Layout) leaves(prefix string, base int, out *[]Leaf) {
	switch l.Type.kind {
	case KindScalar:
		*out = append(*out, Leaf{Path: prefix, Offset: base, Size: l.Size, Type: l.Type})
	case KindArray:
		if l.Elem.Type.kind == KindScalar || l.Type.n <= 0 {
			*out = append(*out, Leaf{Path: prefix, Offset: base, Size: l.Size, Type: l.Type})
			return
		}
		for i := 0; i < l.Type.n; i++ {
			l.Elem.leaves(fmt.Sprintf("%s[%d]", prefix, i), base+i*l.Elem.Size, out)
		}
	default:
		for _, f := range l.Fields {
			p := f.Name
			if prefix != "" && p != "" {
				p = prefix + "." + f.Name
			} else if p == "" {
				p = prefix
			}
			switch {
			case f.BitField && f.Name == "":
				// Unnamed: padding bits.
			case f.BitField:
				*out = append(*out, Leaf{Path: p, Offset: base + f.Offset, Size: (f.BitOffset + f.Bits + 7) / 8,
					Type: f.Type, Bits: f.Bits, BitOffset: f.BitOffset})
			default:
				f.leaves(p, base+f.Offset, out)
			}
		}
	}
}

// Range is a run of bytes [Offset, Offset+Size).
type Range struct {
	Offset int // the first byte
	Size   int // how many bytes
}

// Padding returns the byte ranges of l that belong to no member: holes
// between struct members and tail padding, found recursively. A byte that
// holds any bit of a named bit-field is not padding; one that holds only
// unnamed bit-fields is. It is computed once per layout (encoders ask on
// every frame); the slice is shared and must not be modified.
func (l *Layout) Padding() []Range {
	l.padOnce.Do(func() { l.padding = l.findPadding() })
	return l.padding
}

func (l *Layout) findPadding() []Range {
	used := make([]bool, l.Size)
	for _, lf := range l.Leaves() {
		for i := lf.Offset; i < lf.Offset+lf.Size && i < len(used); i++ {
			used[i] = true
		}
	}
	var out []Range
	for i := 0; i < len(used); i++ {
		if used[i] {
			continue
		}
		j := i
		for j < len(used) && !used[j] {
			j++
		}
		out = append(out, Range{Offset: i, Size: j - i})
		i = j
	}
	return out
}

// FlexOffset returns the offset of a trailing flexible array member and
// true, or 0 and false when the struct has none.
func (l *Layout) FlexOffset() (int, bool) {
	if l.Type.kind != KindStruct || len(l.Fields) == 0 {
		return 0, false
	}
	last := l.Fields[len(l.Fields)-1]
	if !last.Type.IsFlexible() {
		return 0, false
	}
	return last.Offset, true
}
