package abi

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Decls is what a C source declares, as this package's types: its
// structs and unions, enums, typedefs and constants, in declaration order.
// A Decls is read-only.
type Decls struct {
	structs  []*Type // tagged structs and unions, and typedefs of untagged ones
	tags     map[string]*Type
	typedefs map[string]*Type
	tdOrder  []string
	consts   map[string]int64
	// Notes are things a reader should know that are not errors: a
	// redefinition of a standard typedef that was kept standard.
	Notes []string
}

// ErrCSyntax is wrapped by every error ParseC returns for source it
// cannot read as C declarations.
var ErrCSyntax = errors.New("C declaration")

// ParseC reads C declarations of structs, unions, enums and typedefs from
// src (name is for messages) into types, ready for NewLayout on any ABI.
// It takes what headers that declare data use: GNU attributes (packed,
// aligned(N)), _Alignas, bit-fields, anonymous members, enums with
// constant expressions, typedef chains, typeof(type), arrays of any rank,
// function prototypes and inline functions (skipped), and a preprocessor
// (see the package documentation of the lexer: macros, macro calls over
// several lines, conditionals, include guards, #include of files next to
// a header file). The fixed-width, size_t, ptrdiff_t, intptr_t, bool and
// NetBSD register_t typedefs are built in, per ABI.
//
// One declaration serves every ABI, so what would make it differ between
// ABIs is an error naming it rather than a silent guess: sizeof,
// _Alignof or _Alignas of a type that measures differently between ABIs
// (sizeof(long), sizeof(void *), _Alignof(uint64_t), a struct whose
// padding the ABI decides; sizeof(uint32_t), sizeof(char[6]) and a
// struct of chars are numbers), __alignof__ and offsetof, a condition on
// an undefined macro that compilers predefine per target (__LP64__,
// __BYTE_ORDER__, __x86_64__, __SIZEOF_LONG__) or that machines' headers
// define per ABI (__BITS_PER_LONG), #pragma pack, mode and vector_size
// attributes, aligned without a number. Any other macro a condition
// tests is the source's: an include guard such as __LINUX_NETLINK_H, a
// switch such as __KERNEL__ (undefined), a compiler's name the source
// has itself defined or #undef'd.
func ParseC(name string, src []byte) (*Decls, error) {
	return parseC(name, src, "", nil)
}

// ParseCFile reads C declarations from a header file; #include "x.h"
// finds files next to it.
func ParseCFile(path string) (*Decls, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("abi: %w", err)
	}
	return parseC(path, src, filepath.Dir(path), readSourceFile)
}

func parseC(name string, src []byte, dir string, read func(string) ([]byte, string, error)) (*Decls, error) {
	pp := &preproc{macros: map[string]*macro{}, own: map[string]bool{}, readDir: read}
	if err := pp.run("<built-in>", []byte(cdefs), ""); err != nil {
		panic(err) // the built-in definitions are ours
	}
	if err := pp.run(name, src, dir); err != nil {
		return nil, fmt.Errorf("abi: %w: %w", ErrCSyntax, err)
	}
	p := &cparser{toks: pp.out, end: name, d: &Decls{
		tags: map[string]*Type{}, typedefs: map[string]*Type{}, consts: map[string]int64{},
	}}
	for k, m := range pp.macros {
		// Object-like macros that are integer constants serve as
		// constants too (#define NFOO 4 ... char x[NFOO] is expanded
		// anyway; this makes Constant("NFOO") answer).
		if !m.function && len(m.body) > 0 {
			e := &exprParser{toks: m.body, pos: name}
			if v, err := e.parse(); err == nil {
				p.d.consts[k] = v
			}
		}
	}
	if err := p.unit(); err != nil {
		return nil, fmt.Errorf("abi: %w: %w", ErrCSyntax, err)
	}
	return p.d, nil
}

// Structs returns every struct and union with a name: a tag, or a typedef
// name for an untagged one, in declaration order. Unions are included.
func (d *Decls) Structs() []*Type { return append([]*Type(nil), d.structs...) }

// Typedefs returns the typedefs in declaration order.
func (d *Decls) Typedefs() []*Type {
	out := make([]*Type, 0, len(d.tdOrder))
	for _, n := range d.tdOrder {
		out = append(out, d.typedefs[n])
	}
	return out
}

// Type finds a declared type by name: "struct stat", "union u", "enum e",
// a bare tag ("stat", when one struct or union has it), or a typedef name.
func (d *Decls) Type(name string) (*Type, bool) {
	n := strings.Join(strings.Fields(name), " ")
	if t, ok := d.typedefs[n]; ok {
		return t, true
	}
	if t, ok := d.tags[n]; ok {
		return t, true
	}
	for _, w := range []string{"struct ", "union ", "enum "} {
		if t, ok := d.tags[w+n]; ok {
			return t, true
		}
	}
	return nil, false
}

// Constant returns the value of an enumerator or of an object-like macro
// that is an integer constant.
func (d *Decls) Constant(name string) (int64, bool) {
	v, ok := d.consts[name]
	return v, ok
}

type cparser struct {
	toks []token
	i    int
	end  string
	d    *Decls
	anon int
}

var errFunction = errors.New("function type")

// funcType stands for a function type while a declarator is built; only a
// pointer to it may end up in a declaration.
var funcType = &Type{kind: KindScalar, name: "function"}

func (p *cparser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tEOF, pos: p.end + ": end"}
}

func (p *cparser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return token{kind: tEOF, pos: p.end + ": end"}
}

func (p *cparser) next() token { t := p.peek(); p.i++; return t }

func (p *cparser) errf(t token, format string, a ...any) error {
	return fmt.Errorf("%s: %s", t.pos, fmt.Sprintf(format, a...))
}

func (p *cparser) expect(text string) error {
	if t := p.next(); t.text != text {
		return p.errf(t, "want %q, got %s", text, t)
	}
	return nil
}

func (p *cparser) unit() error {
	for p.peek().kind != tEOF {
		if err := p.external(); err != nil {
			return err
		}
	}
	return nil
}

// specs is what a declaration's specifiers said.
type specs struct {
	typ     *Type
	typedef bool
	skip    bool // extern, static: a declaration sprig has no use for
	align   int  // _Alignas
	attrs   attrList
}

// attrList is what __attribute__ lists said.
type attrList struct {
	packed bool
	align  int
}

func (a attrList) merge(b attrList) attrList {
	return attrList{packed: a.packed || b.packed, align: max(a.align, b.align)}
}

var typeKeywords = map[string]bool{
	"void": true, "char": true, "short": true, "int": true, "long": true, "float": true, "double": true,
	"signed": true, "unsigned": true, "_Bool": true, "_Complex": true, "__complex__": true, "__int128": true,
	"__signed__": true, "__signed": true,
}

var ignoredWords = map[string]bool{
	"const": true, "volatile": true, "restrict": true, "__restrict": true, "__restrict__": true,
	"__const": true, "__volatile__": true, "inline": true, "__inline__": true, "__inline": true,
	"register": true, "auto": true, "__extension__": true, "_Noreturn": true, "_Thread_local": true,
	"__thread": true,
}

// isTypeof tells whether w spells GNU C's or C23's typeof.
func isTypeof(w string) bool { return w == "typeof" || w == "__typeof__" || w == "__typeof" }

func isKeyword(w string) bool {
	if isTypeof(w) {
		return true
	}
	switch w {
	case "struct", "union", "enum", "typedef", "extern", "static", "_Alignas", "__attribute__", "__attribute", "_Atomic", "sizeof":
		return true
	}
	return typeKeywords[w] || ignoredWords[w]
}

func (p *cparser) isTypeStart(t token) bool {
	if t.kind != tIdent {
		return false
	}
	switch t.text {
	case "struct", "union", "enum", "typedef", "extern", "static", "_Alignas", "__attribute__", "__attribute", "_Atomic":
		return true
	}
	if typeKeywords[t.text] || ignoredWords[t.text] || isTypeof(t.text) {
		return true
	}
	_, ok := p.lookupTypedef(t.text)
	return ok
}

func (p *cparser) lookupTypedef(name string) (*Type, bool) {
	if t, ok := p.d.typedefs[name]; ok {
		return t, true
	}
	t, ok := typedefNames[name]
	return t, ok
}

// external reads one top-level declaration.
func (p *cparser) external() error {
	t := p.peek()
	switch {
	case t.text == ";":
		p.next()
		return nil
	case t.text == "_Static_assert" || t.text == "static_assert":
		return p.skipBalancedThen(";")
	case t.text == "__asm__" || t.text == "asm" || t.text == "__asm":
		return p.skipBalancedThen(";")
	}
	sp, err := p.specifiers(false)
	if err != nil {
		return err
	}
	if p.peek().text == ";" {
		p.next()
		if sp.typedef {
			return p.errf(t, "typedef without a name")
		}
		return nil // a struct, union or enum definition alone
	}
	for {
		name, wrap, err := p.declarator()
		if err != nil {
			return err
		}
		a, err := p.attributes()
		if err != nil {
			return err
		}
		typ, werr := wrap(sp.typ)
		typ, werr = finish(name, typ, werr)
		if p.peek().text == "{" { // a function definition
			if !errors.Is(werr, errFunction) {
				return p.errf(p.peek(), "unexpected { after %s", name)
			}
			return p.skipBalanced()
		}
		if p.peek().text == "=" { // an initialised object: skip its initialiser
			for p.peek().kind != tEOF && p.peek().text != ";" && p.peek().text != "," {
				if p.peek().text == "{" || p.peek().text == "(" {
					if err := p.skipBalanced(); err != nil {
						return err
					}
					continue
				}
				p.next()
			}
		}
		switch {
		case sp.typedef:
			if werr != nil && !errors.Is(werr, errFunction) {
				return werr
			}
			if errors.Is(werr, errFunction) {
				typ = PointerTo("function")
			}
			if err := p.addTypedef(t, name, typ, sp.attrs.merge(a)); err != nil {
				return err
			}
		case werr != nil && !errors.Is(werr, errFunction):
			if !sp.skip {
				return werr
			}
		}
		switch tok := p.next(); tok.text {
		case ",":
			continue
		case ";":
			return nil
		default:
			return p.errf(tok, "want ; or , after a declarator, got %s", tok)
		}
	}
}

func (p *cparser) addTypedef(at token, name string, t *Type, a attrList) error {
	if name == "" {
		return p.errf(at, "typedef without a name")
	}
	if a.packed && t.kind != KindStruct && t.kind != KindUnion {
		// GCC ignores it with a warning.
		p.d.Notes = append(p.d.Notes, fmt.Sprintf("%s: packed on typedef %s ignored, as GCC does", at.pos, name))
	}
	if _, std := typedefNames[name]; std {
		p.d.Notes = append(p.d.Notes, fmt.Sprintf("%s: typedef %s kept as the standard type, laid out per ABI (the header's own definition is one machine's)", at.pos, name))
		return nil
	}
	td := Typedef(name, t)
	if a.align != 0 {
		var err error
		if td, err = td.With(Attrs{Align: a.align}); err != nil { // exact, as a typedef's
			return p.errf(at, "%v", err)
		}
	}
	if old, ok := p.d.typedefs[name]; ok {
		if old.Decl() != td.Decl() || old.Attrs() != td.Attrs() {
			return p.errf(at, "typedef %s redefined differently", name)
		}
		return nil
	}
	p.d.typedefs[name] = td
	p.d.tdOrder = append(p.d.tdOrder, name)
	if t.alias == nil && (t.name == "struct" || t.name == "union") {
		p.d.structs = append(p.d.structs, td)
	}
	return nil
}

// specifiers reads declaration specifiers. member is true inside a
// struct or union.
func (p *cparser) specifiers(member bool) (specs, error) {
	var sp specs
	var words []string
	start := p.peek()
	for {
		t := p.peek()
		if t.kind != tIdent {
			break
		}
		switch {
		case t.text == "typedef":
			if member {
				return sp, p.errf(t, "typedef inside a struct")
			}
			sp.typedef = true
			p.next()
		case t.text == "extern" || t.text == "static":
			sp.skip = true
			p.next()
		case ignoredWords[t.text]:
			p.next()
		case t.text == "_Atomic":
			return sp, p.errf(t, "_Atomic types are not supported (their layout is the implementation's choice)")
		case t.text == "__attribute__" || t.text == "__attribute":
			a, err := p.attributes()
			if err != nil {
				return sp, err
			}
			sp.attrs = sp.attrs.merge(a)
		case isTypeof(t.text):
			if sp.typ != nil || len(words) > 0 {
				return sp, p.errf(t, "two types in one declaration")
			}
			typ, err := p.typeofSpecifier()
			if err != nil {
				return sp, err
			}
			sp.typ = typ
		case t.text == "_Alignas":
			p.next()
			n, err := p.parenConst("_Alignas")
			if err != nil {
				return sp, err
			}
			if !powerOfTwo(int(n)) {
				return sp, p.errf(t, "_Alignas(%d): not a power of two", n)
			}
			sp.align = max(sp.align, int(n))
		case t.text == "struct" || t.text == "union":
			if sp.typ != nil || len(words) > 0 {
				return sp, p.errf(t, "two types in one declaration")
			}
			typ, err := p.structSpecifier()
			if err != nil {
				return sp, err
			}
			sp.typ = typ
		case t.text == "enum":
			if sp.typ != nil || len(words) > 0 {
				return sp, p.errf(t, "two types in one declaration")
			}
			typ, err := p.enumSpecifier()
			if err != nil {
				return sp, err
			}
			sp.typ = typ
		case typeKeywords[t.text]:
			if sp.typ != nil {
				return sp, p.errf(t, "two types in one declaration")
			}
			words = append(words, t.text)
			p.next()
		default:
			td, ok := p.lookupTypedef(t.text)
			if !ok || sp.typ != nil || len(words) > 0 {
				goto done
			}
			sp.typ = td
			p.next()
		}
	}
done:
	if sp.typ == nil {
		if len(words) == 0 {
			return sp, p.errf(start, "want a type, got %s", start)
		}
		if len(words) == 1 && words[0] == "void" {
			sp.typ = voidType
			return sp, nil
		}
		t, err := scalarFromSpecifiers(words)
		if err != nil {
			return sp, p.errf(start, "%v", err)
		}
		sp.typ = t
	}
	return sp, nil
}

// voidType is void, usable only behind a pointer.
var voidType = &Type{kind: KindScalar, name: "void"}

func (p *cparser) parenConst(what string) (int64, error) {
	if err := p.expect("("); err != nil {
		return 0, err
	}
	start := p.i
	depth := 0
	for {
		t := p.peek()
		if t.kind == tEOF {
			return 0, p.errf(t, "unterminated %s(", what)
		}
		if t.text == "(" {
			depth++
		}
		if t.text == ")" {
			if depth == 0 {
				break
			}
			depth--
		}
		p.next()
	}
	toks := p.toks[start:p.i]
	p.next()
	if len(toks) > 0 && p.isTypeStart(toks[0]) && toks[0].text != "__attribute__" {
		// _Alignas(T) is _Alignas(_Alignof(T)), for a T aligned alike
		// on every ABI.
		t, err := p.typeName(toks[0], what, toks)
		if err != nil {
			return 0, err
		}
		n, err := abiFixed(t, true)
		if err != nil {
			return 0, p.errf(toks[0], "%s(type): the alignment of a type differs between ABIs (%s: %v); write a number", what, t.name, err)
		}
		return n, nil
	}
	return p.constExpr(toks)
}

func (p *cparser) constExpr(toks []token) (int64, error) {
	pos := p.peek().pos
	if len(toks) > 0 {
		pos = toks[0].pos
	}
	e := &exprParser{toks: toks, pos: pos, resolve: func(n string) (int64, bool) {
		v, ok := p.d.consts[n]
		return v, ok
	}, typeName: p.isTypeStart, sizeOf: p.sizeofType}
	return e.parse()
}

// attributes reads any number of __attribute__((...)) lists.
func (p *cparser) attributes() (attrList, error) {
	var a attrList
	for p.peek().text == "__attribute__" || p.peek().text == "__attribute" {
		at := p.next()
		if err := p.expect("("); err != nil {
			return a, err
		}
		if err := p.expect("("); err != nil {
			return a, err
		}
		for p.peek().text != ")" {
			t := p.next()
			if t.kind == tEOF {
				return a, p.errf(at, "unterminated __attribute__")
			}
			if t.text == "," {
				continue
			}
			name := strings.TrimSuffix(strings.TrimPrefix(t.text, "__"), "__")
			var args []token
			if p.peek().text == "(" {
				start := p.i + 1
				if err := p.skipBalanced(); err != nil {
					return a, err
				}
				args = p.toks[start : p.i-1]
			}
			switch name {
			case "packed":
				a.packed = true
			case "aligned":
				if len(args) == 0 {
					return a, p.errf(t, "aligned without a number means the target's largest alignment, which differs between ABIs; write aligned(N)")
				}
				n, err := p.constExpr(args)
				if err != nil {
					return a, err
				}
				if !powerOfTwo(int(n)) {
					return a, p.errf(t, "aligned(%d): not a power of two", n)
				}
				a.align = max(a.align, int(n))
			case "mode", "vector_size", "ms_struct", "gcc_struct", "scalar_storage_order", "designated_init":
				return a, p.errf(t, "__attribute__((%s)) is not supported", name)
			}
		}
		p.next()
		if err := p.expect(")"); err != nil {
			return a, err
		}
	}
	return a, nil
}

// declarator reads a declarator (or an abstract one) and returns its
// name and a function that derives its type from the specifiers' type.
// The derived type may still be a function or void; finish refuses those
// where an object is declared.
func (p *cparser) declarator() (string, func(*Type) (*Type, error), error) {
	if _, err := p.attributes(); err != nil {
		return "", nil, err
	}
	ptrs := 0
	for p.peek().text == "*" {
		p.next()
		ptrs++
		for p.peek().kind == tIdent && (ignoredWords[p.peek().text] || p.peek().text == "__attribute__") {
			if p.peek().text == "__attribute__" {
				if _, err := p.attributes(); err != nil {
					return "", nil, err
				}
				continue
			}
			p.next()
		}
	}
	name := ""
	var inner func(*Type) (*Type, error)
	switch t := p.peek(); {
	case t.text == "(" && (p.peekAt(1).text == "*" || p.peekAt(1).text == "(" || p.peekAt(1).text == "__attribute__" ||
		p.peekAt(1).kind == tIdent && !p.isTypeStart(p.peekAt(1))):
		p.next()
		n, w, err := p.declarator()
		if err != nil {
			return "", nil, err
		}
		if err := p.expect(")"); err != nil {
			return "", nil, err
		}
		name, inner = n, w
	case t.kind == tIdent && !isKeyword(t.text):
		// A typedef name too: the specifiers already gave the type, so
		// here it is redeclared (typedef ssize_t intptr_t).
		name = t.text
		p.next()
	}
	type suffix struct {
		dim int64 // -1: []
		fn  bool
		at  token
	}
	var sufs []suffix
	for {
		t := p.peek()
		if t.text == "(" {
			if err := p.skipBalanced(); err != nil {
				return "", nil, err
			}
			sufs = append(sufs, suffix{fn: true, at: t})
			continue
		}
		if t.text != "[" {
			break
		}
		p.next()
		if p.peek().text == "]" {
			p.next()
			sufs = append(sufs, suffix{dim: -1, at: t})
			continue
		}
		start, depth := p.i, 0
		for !(p.peek().text == "]" && depth == 0) {
			switch p.peek().text {
			case "[":
				depth++
			case "]":
				depth--
			}
			if p.peek().kind == tEOF {
				return "", nil, p.errf(t, "unterminated [")
			}
			p.next()
		}
		n, err := p.constExpr(p.toks[start:p.i])
		if err != nil {
			return "", nil, err
		}
		p.next()
		if n < 0 {
			return "", nil, p.errf(t, "negative array length %d", n)
		}
		sufs = append(sufs, suffix{dim: n, at: t})
	}
	derive := func(base *Type) (*Type, error) {
		t := base
		for k := 0; k < ptrs; k++ {
			t = PointerTo(t.name)
		}
		for k := len(sufs) - 1; k >= 0; k-- {
			s := sufs[k]
			switch {
			case s.fn:
				if t == funcType {
					return nil, p.errf(s.at, "a function returning a function")
				}
				t = funcType
			case t == funcType || t == voidType || t.kind == KindScalar && t.base == 0:
				return nil, p.errf(s.at, "an array of %s", t.name)
			case s.dim < 0:
				t = FlexArray(t)
			default:
				a, err := NewArray(t, int(s.dim))
				if err != nil {
					return nil, p.errf(s.at, "%v", err)
				}
				t = a
			}
		}
		if inner != nil {
			return inner(t)
		}
		return t, nil
	}
	return name, derive, nil
}

// finish refuses a declared object of function or void type: the first
// is errFunction, which callers use to skip prototypes.
func finish(name string, t *Type, err error) (*Type, error) {
	switch {
	case err != nil:
		return nil, err
	case t == funcType:
		return nil, fmt.Errorf("%s: %w", name, errFunction)
	case t == voidType:
		return nil, fmt.Errorf("%s has type void", name)
	}
	return t, nil
}

func (p *cparser) skipBalanced() error {
	open := p.next()
	closeFor := map[string]string{"(": ")", "[": "]", "{": "}"}
	want := []string{closeFor[open.text]}
	for len(want) > 0 {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return p.errf(open, "unbalanced %s", open.text)
		case closeFor[t.text] != "":
			want = append(want, closeFor[t.text])
		case t.text == want[len(want)-1]:
			want = want[:len(want)-1]
		case t.text == ")" || t.text == "]" || t.text == "}":
			return p.errf(t, "unbalanced %s", t.text)
		}
	}
	return nil
}

func (p *cparser) skipBalancedThen(end string) error {
	p.next()
	if p.peek().text == "(" {
		if err := p.skipBalanced(); err != nil {
			return err
		}
	}
	return p.expect(end)
}

// structSpecifier reads "struct tag { ... } attrs" or "struct tag".
func (p *cparser) structSpecifier() (*Type, error) {
	kw := p.next()
	kind := KindStruct
	if kw.text == "union" {
		kind = KindUnion
	}
	a, err := p.attributes()
	if err != nil {
		return nil, err
	}
	tag := ""
	if t := p.peek(); t.kind == tIdent && t.text != "__attribute__" {
		tag = t.text
		p.next()
	}
	full := kw.text + " " + tag
	if p.peek().text != "{" {
		if tag == "" {
			return nil, p.errf(kw, "%s without a tag or members", kw.text)
		}
		if t, ok := p.d.tags[full]; ok {
			return t, nil
		}
		// Incomplete: usable behind a pointer only.
		return &Type{kind: KindScalar, name: full, base: 0}, nil
	}
	p.next()
	var fields []Field
	for p.peek().text != "}" {
		if p.peek().kind == tEOF {
			return nil, p.errf(kw, "unterminated %s", full)
		}
		fs, err := p.memberDecl()
		if err != nil {
			return nil, err
		}
		fields = append(fields, fs...)
	}
	p.next()
	a2, err := p.attributes()
	if err != nil {
		return nil, err
	}
	a = a.merge(a2)
	var t *Type
	if kind == KindUnion {
		t, err = NewUnion(tag, fields...)
	} else {
		t, err = NewStruct(tag, fields...)
	}
	if err != nil {
		return nil, p.errf(kw, "%v", err)
	}
	if a.packed || a.align != 0 {
		if t, err = t.With(Attrs{Packed: a.packed, Align: a.align}); err != nil {
			return nil, p.errf(kw, "%v", err)
		}
	}
	if tag != "" {
		if old, ok := p.d.tags[full]; ok && old.kind != KindScalar {
			return nil, p.errf(kw, "%s defined twice", full)
		}
		p.d.tags[full] = t
		p.d.structs = append(p.d.structs, t)
	}
	return t, nil
}

// memberDecl reads one member declaration, which may declare several
// members.
func (p *cparser) memberDecl() ([]Field, error) {
	t := p.peek()
	if t.text == "_Static_assert" || t.text == "static_assert" {
		return nil, p.skipBalancedThen(";")
	}
	if t.text == ";" {
		p.next()
		return nil, nil
	}
	sp, err := p.specifiers(true)
	if err != nil {
		return nil, err
	}
	if p.peek().text == ";" { // an anonymous struct or union, or a stray tag
		p.next()
		if sp.typ.kind == KindStruct || sp.typ.kind == KindUnion {
			if sp.align != 0 || sp.attrs != (attrList{}) {
				typ, err := sp.typ.With(Attrs{Packed: sp.attrs.packed, Align: max(sp.align, sp.attrs.align)})
				if err != nil {
					return nil, p.errf(t, "%v", err)
				}
				sp.typ = typ
			}
			return []Field{{Type: sp.typ}}, nil
		}
		return nil, p.errf(t, "a member declaration without a name")
	}
	var out []Field
	for {
		var f Field
		var name string
		var typ = sp.typ
		if p.peek().text != ":" {
			n, wrap, err := p.declarator()
			if err != nil {
				return nil, err
			}
			typ, err = wrap(sp.typ)
			if typ, err = finish(n, typ, err); err != nil {
				if errors.Is(err, errFunction) {
					return nil, p.errf(t, "member %s is a function", n)
				}
				return nil, err
			}
			name = n
			if typ.kind == KindScalar && typ.base == 0 {
				return nil, p.errf(t, "member %s has the incomplete type %s", name, typ.name)
			}
		}
		f = Field{Name: name, Type: typ, Align: sp.align}
		if p.peek().text == ":" {
			colon := p.next()
			start := p.i
			for p.peek().text != "," && p.peek().text != ";" && p.peek().text != "__attribute__" && p.peek().kind != tEOF {
				p.next()
			}
			w, err := p.constExpr(p.toks[start:p.i])
			if err != nil {
				return nil, err
			}
			if w < 0 {
				return nil, p.errf(colon, "negative bit-field width %d", w)
			}
			f.BitField, f.Bits = true, int(w)
		}
		a, err := p.attributes()
		if err != nil {
			return nil, err
		}
		a = a.merge(sp.attrs)
		f.Packed = a.packed
		f.Align = max(f.Align, a.align)
		out = append(out, f)
		switch tok := p.next(); tok.text {
		case ",":
			continue
		case ";":
			return out, nil
		default:
			return nil, p.errf(tok, "want ; or , after member %s, got %s", name, tok)
		}
	}
}

// enumSpecifier reads "enum tag { A, B = 2 }" or "enum tag".
func (p *cparser) enumSpecifier() (*Type, error) {
	kw := p.next()
	a, err := p.attributes()
	if err != nil {
		return nil, err
	}
	tag := ""
	if t := p.peek(); t.kind == tIdent && t.text != "__attribute__" {
		tag = t.text
		p.next()
	}
	full := "enum " + tag
	if p.peek().text != "{" {
		if t, ok := p.d.tags[full]; ok && tag != "" {
			return t, nil
		}
		return nil, p.errf(kw, "%s is not defined (an enum's size depends on its values)", full)
	}
	p.next()
	var es []Enumerator
	next := int64(0)
	for p.peek().text != "}" {
		n := p.next()
		if n.kind != tIdent {
			return nil, p.errf(n, "want an enumerator name, got %s", n)
		}
		if _, err := p.attributes(); err != nil {
			return nil, err
		}
		v := next
		if p.peek().text == "=" {
			p.next()
			start := p.i
			depth := 0
			for !((p.peek().text == "," || p.peek().text == "}") && depth == 0) {
				switch p.peek().text {
				case "(":
					depth++
				case ")":
					depth--
				}
				if p.peek().kind == tEOF {
					return nil, p.errf(n, "unterminated enum")
				}
				p.next()
			}
			if v, err = p.constExpr(p.toks[start:p.i]); err != nil {
				return nil, err
			}
		}
		es = append(es, Enumerator{Name: n.text, Value: v})
		p.d.consts[n.text] = v
		next = v + 1
		if p.peek().text == "," {
			p.next()
		}
	}
	p.next()
	a2, err := p.attributes()
	if err != nil {
		return nil, err
	}
	if a.merge(a2).packed {
		return nil, p.errf(kw, "a packed enum is -fshort-enums for one type; sprig lays enums out as int-sized, as every supported ABI does")
	}
	t, err := NewEnum(tag, es...)
	if err != nil {
		return nil, p.errf(kw, "%v", err)
	}
	if tag != "" {
		p.d.tags[full] = t
	}
	return t, nil
}
