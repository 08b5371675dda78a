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
// are immutable and safe to share.
type Layout struct {
	ABI   *Descriptor
	Type  *Type
	Size  int // sizeof, rounded up to Align; a flexible tail adds nothing
	Align int // alignment inside an enclosing struct

	// Fields holds a struct's or union's members in declaration order.
	Fields []FieldLayout
	// Elem is an array's element layout.
	Elem *Layout

	padOnce sync.Once
	padding []Range
}

// FieldLayout is one member of a struct or union at its offset.
type FieldLayout struct {
	Name   string
	Offset int
	*Layout
}

// ErrNoField is returned when a field path names no member.
var ErrNoField = errors.New("no such field")

// LayoutOf lays t out for descriptor d.
func LayoutOf(d *Descriptor, t *Type) *Layout {
	l := &Layout{ABI: d, Type: t}
	switch t.kind {
	case KindScalar:
		s := d.Scalar(t.base)
		l.Size, l.Align = s.Size, s.Align
	case KindArray:
		l.Elem = LayoutOf(d, t.elem)
		l.Align = l.Elem.Align
		if t.n > 0 {
			l.Size = l.Elem.Size * t.n
		}
	case KindStruct:
		off := 0
		l.Align = 1
		for _, f := range t.fields {
			fl := LayoutOf(d, f.Type)
			off = alignUp(off, fl.Align)
			l.Fields = append(l.Fields, FieldLayout{Name: f.Name, Offset: off, Layout: fl})
			off += fl.Size
			l.Align = max(l.Align, fl.Align)
		}
		l.Size = alignUp(off, l.Align)
	case KindUnion:
		l.Align = 1
		for _, f := range t.fields {
			fl := LayoutOf(d, f.Type)
			l.Fields = append(l.Fields, FieldLayout{Name: f.Name, Layout: fl})
			l.Size = max(l.Size, fl.Size)
			l.Align = max(l.Align, fl.Align)
		}
		l.Size = alignUp(l.Size, l.Align)
	}
	return l
}

func alignUp(n, a int) int {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}

// Field finds a member by a dotted path such as "st_atim.tv_sec" or
// "st_spare[1]" and returns its offset from the start of l and its layout.
func (l *Layout) Field(path string) (int, *Layout, error) {
	off, cur := 0, l
	rest := path
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ".")
		name, idxs, err := splitIndex(part)
		if err != nil {
			return 0, nil, fmt.Errorf("abi: %s: field %q: %w", l.Type.name, path, err)
		}
		if name != "" {
			var found *FieldLayout
			for i := range cur.Fields {
				if cur.Fields[i].Name == name {
					found = &cur.Fields[i]
					break
				}
			}
			if found == nil {
				return 0, nil, fmt.Errorf("abi: %s has no field %q: %w", l.Type.name, path, ErrNoField)
			}
			off += found.Offset
			cur = found.Layout
		}
		for _, idx := range idxs {
			if cur.Type.kind != KindArray || (cur.Type.n >= 0 && idx >= cur.Type.n) {
				return 0, nil, fmt.Errorf("abi: %s: index %d out of range in %q: %w", l.Type.name, idx, path, ErrNoField)
			}
			off += idx * cur.Elem.Size
			cur = cur.Elem
		}
	}
	return off, cur, nil
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
	Path   string
	Offset int
	Size   int // the whole leaf; for an array of scalars, all elements
	Type   *Type
}

// Leaves flattens l into its scalar members in memory order. Arrays of
// scalars stay one leaf; arrays of structs are expanded per element.
// Union members all appear, overlapping.
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
			if prefix != "" {
				p = prefix + "." + f.Name
			}
			f.leaves(p, base+f.Offset, out)
		}
	}
}

// Range is a run of bytes [Offset, Offset+Size).
type Range struct{ Offset, Size int }

// Padding returns the byte ranges of l that belong to no member: holes
// between struct members and tail padding, found recursively. It is
// computed once per layout (encoders ask on every frame); the slice is
// shared and must not be modified.
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
