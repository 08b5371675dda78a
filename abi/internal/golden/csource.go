package golden

import (
	"fmt"
	"strings"

	"github.com/rumpsprig/sprig/abi"
)

// Symbol names in the object file.
const (
	ValuesSymbol = "sprig_layout_values"
	NamesSymbol  = "sprig_layout_names"
)

// prelude gives every machine NetBSD's own spelling of the fixed-width
// integers, size_t and register_t (machine/int_types.h, machine/types.h;
// register_t as the project's abi.md spec records it), with no #include.
// Each machine is tested for exactly, so a compiler for anything else
// stops at the #error.
const prelude = `/* Fixed-width integers narrower than 64 bits are the same everywhere. */
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;

/* Per machine: 64-bit integers, size_t and NetBSD's register_t. */
#if defined(__x86_64__)
/* amd64 */
typedef long int64_t;
typedef unsigned long uint64_t;
typedef unsigned long size_t;
typedef long ssize_t;
typedef long register_t;
#elif defined(__i386__)
/* i386 */
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef unsigned int size_t;
typedef int ssize_t;
typedef int register_t;
#elif defined(__aarch64__)
/* aarch64 and aarch64eb */
typedef long int64_t;
typedef unsigned long uint64_t;
typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned long long register_t;
#elif defined(__arm__)
/* earmv7hf */
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef unsigned long size_t;
typedef long ssize_t;
typedef int register_t;
#elif defined(__mips__) && defined(_ABIO32) && _MIPS_SIM == _ABIO32
/* mipseb, o32 */
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef unsigned int size_t;
typedef int ssize_t;
typedef int32_t register_t;
#elif defined(__powerpc__) && !defined(__powerpc64__)
/* powerpc, 32-bit */
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef unsigned int size_t;
typedef int ssize_t;
typedef unsigned long register_t;
#elif defined(__sparc__) && defined(__arch64__)
/* sparc64 */
typedef long int64_t;
typedef unsigned long uint64_t;
typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned long register_t;
#elif defined(__riscv) && __riscv_xlen == 64
/* riscv64 */
typedef long int64_t;
typedef unsigned long uint64_t;
typedef unsigned long size_t;
typedef long ssize_t;
typedef int64_t register_t;
#else
#error "layouts.c: no typedefs for this machine"
#endif

/*
 * NetBSD's syscall argument slot (sys/syscallargs.h): a union as wide as
 * register_t; the value sits at the start of the slot on little-endian
 * machines and at its end on big-endian ones, after a padding array that
 * is zero-length when the value is at least as wide as register_t.
 */
#define syscallarg(x) \
	union { \
		register_t pad; \
		struct { x datum; } le; \
		struct { \
			int8_t pad[(sizeof(register_t) < sizeof(x)) ? 0 : sizeof(register_t) - sizeof(x)]; \
			x datum; \
		} be; \
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SPRIG_DATUM be.datum
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SPRIG_DATUM le.datum
#else
#error "layouts.c: unknown byte order"
#endif
`

// preludeNames are the scalar spellings the prelude or C itself defines.
var preludeNames = map[string]bool{
	"int8_t": true, "uint8_t": true, "int16_t": true, "uint16_t": true,
	"int32_t": true, "uint32_t": true, "int64_t": true, "uint64_t": true,
	"size_t": true, "ssize_t": true, "register_t": true,
	"char": true, "short": true, "int": true, "long": true, "float": true, "double": true,
	"_Bool": true, "__int128": true,
}

var (
	charSignedABI   = &abi.Descriptor{CharSigned: true}
	charUnsignedABI = &abi.Descriptor{CharSigned: false}
	regSignedABI    = &abi.Descriptor{RegisterTSigned: true}
	regUnsignedABI  = &abi.Descriptor{RegisterTSigned: false}
)

// canonical spells a scalar's underlying C type from its base and
// signedness, the way NetBSD's headers build their typedefs.
func canonical(t *abi.Type) string {
	if t.Signed(regSignedABI) != t.Signed(regUnsignedABI) {
		return "register_t"
	}
	if t.IsEnum() {
		return enumName(t)
	}
	plainChar := t.Signed(charSignedABI) != t.Signed(charUnsignedABI)
	signed := t.Signed(charSignedABI)
	pick := func(s, u string) string {
		if signed {
			return s
		}
		return u
	}
	if t.Complex() {
		return t.Base().String() + " _Complex"
	}
	switch t.Base() {
	case abi.BaseChar:
		if plainChar {
			return "char"
		}
		return pick("int8_t", "uint8_t")
	case abi.BaseShort:
		return pick("int16_t", "uint16_t")
	case abi.BaseInt:
		return pick("int32_t", "uint32_t")
	case abi.BaseLong:
		return pick("long", "unsigned long")
	case abi.BaseLongLong:
		return pick("int64_t", "uint64_t")
	case abi.BaseSizeT:
		return pick("ssize_t", "size_t")
	case abi.BasePointer:
		return "void *"
	case abi.BaseRegisterT:
		return "register_t"
	case abi.BaseFloat:
		return "float"
	case abi.BaseDouble:
		return "double"
	case abi.BaseBool:
		return "_Bool"
	case abi.BaseLongDouble:
		return "long double"
	case abi.BaseInt128:
		return pick("__int128", "unsigned __int128")
	}
	panic(fmt.Sprintf("golden: no C spelling for %s", t.Name()))
}

// enumName is the name an enum is defined under ("enum e"); a typedef of
// an enum names the enum it aliases.
func enumName(t *abi.Type) string {
	for {
		u, ok := t.Typedef()
		if !ok {
			return t.Name()
		}
		t = u
	}
}

// cScalar is how a scalar type is written in layouts.c: its own name when
// that is C (a keyword spelling, a pointer, a prelude or emitted typedef),
// "int" for NetBSD's PAD argument.
func cScalar(t *abi.Type) string {
	if t == abi.Pad {
		return "int"
	}
	return t.Name()
}

// isTypedef reports whether the generated C must typedef t's name: a
// scalar or aggregate named by a typedef rather than by C itself.
func isTypedef(t *abi.Type) bool {
	n := t.Name()
	if t == abi.Pad || preludeNames[n] || strings.ContainsAny(n, " *") {
		return false
	}
	_, ok := t.Typedef()
	return ok || t.Kind() == abi.KindScalar
}

// needs128 reports whether t uses __int128, which only some ABIs have;
// such types are compiled only where __SIZEOF_INT128__ is defined.
func needs128(t *abi.Type) bool {
	switch t.Kind() {
	case abi.KindScalar:
		return t.Base() == abi.BaseInt128
	case abi.KindArray:
		return needs128(t.Elem())
	}
	for _, f := range t.Fields() {
		if needs128(f.Type) {
			return true
		}
	}
	return false
}

const guard128 = "__SIZEOF_INT128__"

type cgen struct {
	b        strings.Builder
	typedefs map[string]*abi.Type
	declared map[string]*abi.Type
	guarded  bool // inside #ifdef __SIZEOF_INT128__
}

func (g *cgen) printf(format string, args ...any) { fmt.Fprintf(&g.b, format, args...) }

// guard opens or closes the __int128 section so that what needs it is
// compiled only where it exists.
func (g *cgen) guard(on bool) {
	switch {
	case on && !g.guarded:
		g.printf("#ifdef %s\n", guard128)
	case !on && g.guarded:
		g.printf("#endif /* %s */\n", guard128)
	}
	g.guarded = on
}

// typedef emits "typedef uint64_t dev_t;" (with an aligned attribute when
// it has one) once per name, after what it names.
func (g *cgen) typedef(t *abi.Type) {
	if !isTypedef(t) {
		return
	}
	if old, ok := g.typedefs[t.Name()]; ok {
		if old != t && old.Decl() != t.Decl() {
			panic("golden: two different types are both " + t.Name())
		}
		return
	}
	g.typedefs[t.Name()] = t
	var target string
	u, isAlias := t.Typedef()
	switch {
	case t.Kind() == abi.KindScalar && (!isAlias || u.Kind() == abi.KindScalar && !isTypedef(u) && u.Attrs().Align == 0):
		target = canonical(t)
		if t.IsEnum() {
			g.enum(t)
		}
	default:
		g.deps(u)
		target = g.spell(u)
	}
	attr := ""
	if a := t.Attrs().Align; a != 0 && t.Kind() != abi.KindStruct && t.Kind() != abi.KindUnion {
		attr = fmt.Sprintf(" __attribute__((aligned(%d)))", a)
	} else if a != 0 && (t.Attrs() != u.Attrs()) {
		attr = fmt.Sprintf(" __attribute__((aligned(%d)))", a)
	}
	if dims, elem := arraySuffix(target); dims != "" {
		g.printf("typedef %s;\n", declarator(elem, t.Name()+dims)+attr)
		return
	}
	g.printf("typedef %s;\n", declarator(target, t.Name())+attr)
}

// spell returns how a member or typedef names type t, defining what it
// needs first; anonymous aggregates come back as their full definition.
func (g *cgen) spell(t *abi.Type) string {
	switch {
	case isTypedef(t):
		g.typedef(t)
		return t.Name()
	case t.IsEnum():
		g.enum(t)
		return t.Name()
	case t.Kind() == abi.KindScalar:
		return cScalar(t)
	case t.Kind() == abi.KindArray:
		e, dims := t, ""
		for e.Kind() == abi.KindArray && !isTypedef(e) {
			if e.Len() < 0 {
				dims += "[]"
			} else {
				dims += fmt.Sprintf("[%d]", e.Len())
			}
			e = e.Elem()
		}
		return g.spell(e) + "\x00" + dims
	case named(t):
		g.aggregate(t)
		return t.Name()
	default:
		g.deps(t) // named types inside must be defined first, outside
		var b strings.Builder
		sub := &cgen{typedefs: g.typedefs, declared: g.declared}
		sub.printf("%s {\n", t.Name())
		for _, f := range t.Fields() {
			sub.member(f, "\t")
		}
		sub.printf("}%s", attrs(t.Attrs()))
		b.WriteString(sub.b.String())
		return b.String()
	}
}

// arraySuffix splits a spelling from spell into the element and the
// dimensions ("int\x00[2][3]").
func arraySuffix(s string) (dims, elem string) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[i+1:], s[:i]
	}
	return "", s
}

func declarator(typ, name string) string {
	if name == "" {
		return typ
	}
	if strings.HasSuffix(typ, "*") {
		return typ + name
	}
	return typ + " " + name
}

func attrs(a abi.Attrs) string {
	var as []string
	if a.Packed {
		as = append(as, "packed")
	}
	if a.Align != 0 {
		as = append(as, fmt.Sprintf("aligned(%d)", a.Align))
	}
	if len(as) == 0 {
		return ""
	}
	return " __attribute__((" + strings.Join(as, ", ") + "))"
}

func named(t *abi.Type) bool {
	_, alias := t.Typedef()
	return !alias && strings.Contains(t.Name(), " ")
}

// enum emits an enum's definition once.
func (g *cgen) enum(t *abi.Type) {
	for {
		u, ok := t.Typedef()
		if !ok {
			break
		}
		t = u
	}
	if _, ok := g.declared[t.Name()]; ok {
		return
	}
	g.declared[t.Name()] = t
	var es []string
	for _, e := range t.Enumerators() {
		es = append(es, fmt.Sprintf("%s = %dLL", e.Name, e.Value))
	}
	g.printf("%s { %s };\n", t.Name(), strings.Join(es, ", "))
}

// aggregate emits the definition of a named struct or union, after the
// named ones it uses.
func (g *cgen) aggregate(t *abi.Type) {
	if _, ok := t.Typedef(); ok {
		g.typedef(t)
		return
	}
	if old, ok := g.declared[t.Name()]; ok {
		if old != t && old.Decl() != t.Decl() {
			panic("golden: two different types are both " + t.Name())
		}
		return
	}
	g.declared[t.Name()] = t
	g.deps(t)
	g.printf("%s {\n", t.Name())
	for _, f := range t.Fields() {
		g.memberIn(f, "\t", alignasStructs[t.Name()])
	}
	g.printf("}%s;\n\n", attrs(t.Attrs()))
}

// deps emits the named types that t's members use.
func (g *cgen) deps(t *abi.Type) {
	var visit func(*abi.Type)
	visit = func(e *abi.Type) {
		for e.Kind() == abi.KindArray && !isTypedef(e) {
			e = e.Elem()
		}
		switch {
		case isTypedef(e):
			g.typedef(e)
		case e.IsEnum():
			g.enum(e)
		case e.Kind() == abi.KindScalar:
		case named(e):
			g.aggregate(e)
		default:
			g.deps(e)
		}
	}
	if t.Kind() != abi.KindStruct && t.Kind() != abi.KindUnion {
		visit(t)
		return
	}
	for _, f := range t.Fields() {
		visit(f.Type)
	}
}

func (g *cgen) member(f abi.Field, indent string) {
	g.memberIn(f, indent, false)
}

func (g *cgen) memberIn(f abi.Field, indent string, alignas bool) {
	spelled := g.spell(f.Type)
	dims, elem := arraySuffix(spelled)
	elem = strings.ReplaceAll(elem, "\n", "\n"+indent)
	suffix := ""
	if f.BitField {
		suffix = fmt.Sprintf(" : %d", f.Bits)
	}
	var as []string
	if f.Packed {
		as = append(as, "packed")
	}
	prefix := ""
	switch {
	case f.Align != 0 && alignas:
		prefix = fmt.Sprintf("_Alignas(%d) ", f.Align)
	case f.Align != 0:
		as = append(as, fmt.Sprintf("aligned(%d)", f.Align))
	}
	if len(as) > 0 {
		suffix += " __attribute__((" + strings.Join(as, ", ") + "))"
	}
	g.printf("%s%s%s%s;\n", indent, prefix, declarator(elem, f.Name+dims), suffix)
}

// Declarations returns the set's typedefs, enums, structs and unions
// alone, as C: what a header declaring them would hold, with no
// preprocessor lines and nothing machine-specific (the fixed-width
// typedefs are left to the reader). Tests parse it back with abi.ParseC.
func (s *Set) Declarations() []byte {
	g := &cgen{typedefs: map[string]*abi.Type{}, declared: map[string]*abi.Type{}}
	for _, t := range s.Scalars {
		g.deps(t)
	}
	for _, t := range s.Structs {
		g.aggregate(t)
	}
	return []byte(g.b.String())
}

// Source returns the complete C file for the set. It depends only on this
// package's code and on the types in the set, never on the machine
// running it.
func (s *Set) Source() []byte {
	g := &cgen{typedefs: map[string]*abi.Type{}, declared: map[string]*abi.Type{}}
	g.printf(`/*
 * %s: C ground truth for sprig's layout engine (package abi).
 *
 * Code generated by abi/internal/golden; DO NOT EDIT.
 *
 * Every ABI's cross compiler builds this file with -c -O0; the numbers in
 * %s are read back from the object file (symbol value plus
 * section data, in the object's byte order). Nothing here is ever run and
 * nothing is included: the typedefs below are NetBSD's, per machine.
 * %s holds the matching names, NUL-separated, in the same
 * order. alignof(T) is the alignment T gets as a struct member, measured
 * as offsetof(struct { char c; T x; }, x), not __alignof__. Each
 * %sN object holds one bit-field set to all ones and nothing
 * else; its bytes give the field's bit position and width.
 *
 * %s
 */

`, s.Name, ValuesSymbol, NamesSymbol, BitsSymbolPrefix, s.Comment)
	g.b.WriteString(prelude)

	g.printf("\n/* NetBSD's and sprig's typedefs. */\n")
	for _, t := range s.Scalars {
		g.guard(needs128(t))
		g.deps(t)
	}
	g.guard(false)

	g.printf("\n/* Structs and unions. */\n")
	for _, t := range s.Structs {
		g.guard(needs128(t))
		g.aggregate(t)
	}
	g.guard(false)

	if len(s.Syscalls) > 0 {
		g.printf("/* Syscall argument structs (sys/syscallargs.h). */\n")
	}
	for _, sc := range s.Syscalls {
		g.printf("%s {\n", ArgsName(sc))
		for _, f := range sc.Args {
			g.printf("\tsyscallarg(%s) %s;\n", cScalar(f.Type), f.Name)
		}
		g.printf("};\n\n")
	}

	g.printf("/* In-struct alignment helpers: offsetof(x) is the alignment. */\n")
	for i, t := range s.Scalars {
		g.guard(needs128(t))
		g.printf("struct %s { char c; %s; };\n", alignHelper(i), declarator(cScalar(t), "x"))
	}
	for i, t := range s.Structs {
		g.guard(needs128(t))
		g.printf("struct %s { char c; %s x; };\n", alignHelper(1000+i), t.Name())
	}
	g.guard(false)

	probes := s.Probes()
	g.printf("\nconst unsigned long long %s[] = {\n", ValuesSymbol)
	for _, p := range probes {
		g.guard(p.Needs128)
		g.printf("\t%s, /* %s */\n", p.Expr, strings.ReplaceAll(p.Name, "*/", "* /"))
	}
	g.guard(false)
	g.printf("};\n\nconst char %s[] =\n", NamesSymbol)
	for _, p := range probes {
		g.guard(p.Needs128)
		g.printf("\t%s\n", cString(p.Name+"\x00"))
	}
	g.guard(false)
	g.printf("\t;\n")

	if bits := s.BitProbes(); len(bits) > 0 {
		g.printf("\n/* One bit-field set to all ones per object. */\n")
		for _, bp := range bits {
			g.guard(bp.Needs128)
			g.printf("const %s %s = { .%s = -1 };\n", bp.Struct, bp.Symbol, bp.Path)
		}
		g.guard(false)
	}
	return []byte(g.b.String())
}

// cString quotes s as a C string literal, writing NULs as \0 followed by
// a literal break so an adjacent character cannot extend the escape.
func cString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0:
			b.WriteString(`\0`)
			if i+1 < len(s) {
				b.WriteString(`" "`)
			}
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\%03o`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
