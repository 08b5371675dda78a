package abi

import "fmt"

// sizeof, _Alignof and typeof of type names in declarations.
//
// A parsed declaration is laid out for every ABI, so sizeof(T) in one of
// its constants can only be a number when T measures the same on all of
// them: sizeof(uint32_t) and sizeof(char[6]) do, sizeof(long) and
// sizeof(void *) do not. "All of them" is more than the built-in
// descriptors: a user's descriptor may give int an alignment of 2, as
// m68k does, and then struct { char c; int32_t x; } is 6 bytes, not 8. A
// layout's size and alignment only grow with its scalars' sizes and
// alignments, so the value is fixed when it agrees between the built-in
// descriptors and the two extremes Validate allows (every scalar at its
// smallest size and alignment 1; every one at its largest size, aligned
// to it). Bit-fields are refused: their placement follows the ABI's
// storage-unit rules, for which that argument does not hold.

// sizeofExtremes returns the two descriptors that bound every valid one.
func sizeofExtremes() [2]*Descriptor {
	lo := &Descriptor{Name: "smallest", Machine: "-", Endian: LittleEndian,
		Char: Scalar{1, 1}, Short: Scalar{2, 1}, Int: Scalar{4, 1}, Long: Scalar{4, 1}, LongLong: Scalar{8, 1},
		Pointer: Scalar{4, 1}, SizeT: Scalar{4, 1}, RegisterT: Scalar{4, 1}, Float: Scalar{4, 1}, Double: Scalar{8, 1},
		Bool: Scalar{1, 1}, LongDouble: Scalar{8, 1}, Int128: Scalar{16, 1}}
	hi := &Descriptor{Name: "largest", Machine: "-", Endian: LittleEndian,
		Char: Scalar{1, 1}, Short: Scalar{2, 2}, Int: Scalar{4, 4}, Long: Scalar{8, 8}, LongLong: Scalar{8, 8},
		Pointer: Scalar{8, 8}, SizeT: Scalar{8, 8}, RegisterT: Scalar{8, 8}, Float: Scalar{4, 4}, Double: Scalar{8, 8},
		Bool: Scalar{8, 8}, LongDouble: Scalar{16, 16}, Int128: Scalar{16, 16}}
	return [2]*Descriptor{lo, hi}
}

// abiFixed returns t's size (or, with align, its alignment) when that is
// the same on every ABI, and otherwise an error saying why it is not.
func abiFixed(t *Type, align bool) (int64, error) {
	if bitFields(t) {
		return 0, fmt.Errorf("%s holds bit-fields, which each ABI places by its own rules", t.name)
	}
	measure := func(d *Descriptor) (int, error) {
		l, err := layoutOf(d, t)
		if err != nil {
			return 0, err
		}
		if align {
			return l.Align, nil
		}
		return l.Size, nil
	}
	var first *Descriptor
	v := 0
	for _, d := range Builtins() {
		n, err := measure(d)
		if err != nil {
			return 0, fmt.Errorf("%s is not on every ABI (%s has none)", t.name, d.Name)
		}
		if first == nil {
			first, v = d, n
			continue
		}
		if n != v {
			return 0, fmt.Errorf("%d on %s, %d on %s", v, first.Name, n, d.Name)
		}
	}
	ex := sizeofExtremes()
	lo, errLo := measure(ex[0])
	hi, errHi := measure(ex[1])
	if errLo != nil || errHi != nil || lo != v || hi != v {
		return 0, fmt.Errorf("%d on every built-in ABI, but it rests on alignments C leaves to the ABI (m68k aligns int to 2)", v)
	}
	return int64(v), nil
}

// bitFields tells whether t or a member of it, at any depth, is a
// bit-field.
func bitFields(t *Type) bool {
	switch t.kind {
	case KindArray:
		return bitFields(t.elem)
	case KindStruct, KindUnion:
		for _, f := range t.fields {
			if f.BitField || bitFields(f.Type) {
				return true
			}
		}
	}
	return false
}

// typeName reads the type name in toks (the inside of sizeof(...),
// typeof(...) or _Alignas(...)): specifiers and an abstract declarator.
func (p *cparser) typeName(at token, what string, toks []token) (*Type, error) {
	sub := &cparser{toks: toks, end: at.pos, d: p.d}
	sp, err := sub.specifiers(true)
	if err != nil {
		return nil, err
	}
	if sp.skip || sp.align != 0 || sp.attrs != (attrList{}) {
		return nil, p.errf(at, "%s: a type name may not hold storage classes, _Alignas or attributes here", what)
	}
	name, wrap, err := sub.declarator()
	if err != nil {
		return nil, err
	}
	if name != "" {
		return nil, p.errf(at, "%s: want a type name, got the declarator %s", what, name)
	}
	if t := sub.peek(); t.kind != tEOF {
		return nil, p.errf(t, "unexpected %s in the type name of %s", t, what)
	}
	typ, err := wrap(sp.typ)
	if typ, err = finish("the type name", typ, err); err != nil {
		return nil, p.errf(at, "%s: %v", what, err)
	}
	return typ, nil
}

// sizeofType evaluates op(T) for op sizeof, _Alignof or alignof, refusing
// a T that measures differently between ABIs.
func (p *cparser) sizeofType(op token, toks []token) (int64, error) {
	t, err := p.typeName(op, op.text, toks)
	if err != nil {
		return 0, err
	}
	v, err := abiFixed(t, op.text != "sizeof")
	if err != nil {
		return 0, p.errf(op, "%s in a declaration: its value differs between ABIs (%s(%s): %v), and sprig reads one declaration for all; write the number", op.text, op.text, t.name, err)
	}
	return v, nil
}

// typeofSpecifier reads typeof(T) as a type specifier. typeof of an
// expression is refused: sprig keeps no types of objects.
func (p *cparser) typeofSpecifier() (*Type, error) {
	kw := p.next()
	if p.peek().text != "(" {
		return nil, p.errf(kw, "want ( after %s", kw.text)
	}
	start := p.i + 1
	if err := p.skipBalanced(); err != nil {
		return nil, err
	}
	toks := p.toks[start : p.i-1]
	if len(toks) == 0 || !p.isTypeStart(toks[0]) {
		return nil, p.errf(kw, "%s of an expression: sprig evaluates %s(type) only; write the type", kw.text, kw.text)
	}
	return p.typeName(kw, kw.text, toks)
}
