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
	plainChar := t.Signed(charSignedABI) != t.Signed(charUnsignedABI)
	signed := t.Signed(charSignedABI)
	pick := func(s, u string) string {
		if signed {
			return s
		}
		return u
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
	}
	panic(fmt.Sprintf("golden: no C spelling for %s", t.Name()))
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

// needsTypedef reports whether layouts.c must typedef t's name.
func needsTypedef(t *abi.Type) bool {
	n := t.Name()
	if t == abi.Pad || preludeNames[n] || strings.ContainsAny(n, " *") {
		return false
	}
	return true
}

type cgen struct {
	b        strings.Builder
	typedefs map[string]bool
	declared map[string]*abi.Type
}

func (g *cgen) printf(format string, args ...any) { fmt.Fprintf(&g.b, format, args...) }

// scalarTypedef emits "typedef uint64_t dev_t;" once per name.
func (g *cgen) scalarTypedef(t *abi.Type) {
	if !needsTypedef(t) || g.typedefs[t.Name()] {
		return
	}
	g.typedefs[t.Name()] = true
	c := canonical(t)
	if strings.HasSuffix(c, "*") {
		g.printf("typedef %s%s;\n", c, t.Name())
	} else {
		g.printf("typedef %s %s;\n", c, t.Name())
	}
}

func named(t *abi.Type) bool { return strings.Contains(t.Name(), " ") }

// aggregate emits the definition of a named struct or union, after the
// named ones it uses.
func (g *cgen) aggregate(t *abi.Type) {
	if old, ok := g.declared[t.Name()]; ok {
		if old != t {
			panic("golden: two different types are both " + t.Name())
		}
		return
	}
	g.declared[t.Name()] = t
	g.deps(t)
	g.printf("%s {\n", t.Name())
	for _, f := range t.Fields() {
		g.member(f.Name, f.Type, "\t")
	}
	g.printf("};\n\n")
}

// deps emits the named aggregates that t's members use.
func (g *cgen) deps(t *abi.Type) {
	for _, f := range t.Fields() {
		e := f.Type
		for e.Kind() == abi.KindArray {
			e = e.Elem()
		}
		switch {
		case e.Kind() == abi.KindScalar:
		case named(e):
			g.aggregate(e)
		default:
			g.deps(e)
		}
	}
}

func (g *cgen) member(name string, t *abi.Type, indent string) {
	dims := ""
	e := t
	for e.Kind() == abi.KindArray {
		if e.Len() < 0 {
			dims += "[]"
		} else {
			dims += fmt.Sprintf("[%d]", e.Len())
		}
		e = e.Elem()
	}
	switch {
	case e.Kind() == abi.KindScalar:
		c := cScalar(e)
		sep := " "
		if strings.HasSuffix(c, "*") {
			sep = ""
		}
		g.printf("%s%s%s%s%s;\n", indent, c, sep, name, dims)
	case named(e):
		g.printf("%s%s %s%s;\n", indent, e.Name(), name, dims)
	default:
		g.printf("%s%s {\n", indent, e.Name())
		for _, f := range e.Fields() {
			g.member(f.Name, f.Type, indent+"\t")
		}
		g.printf("%s} %s%s;\n", indent, name, dims)
	}
}

// CSource returns the complete layouts.c. It depends only on this
// package's code and on the descriptions in abi and abi/netbsd, never on
// the machine running it.
func CSource() []byte {
	g := &cgen{typedefs: map[string]bool{}, declared: map[string]*abi.Type{}}
	g.printf(`/*
 * layouts.c: C ground truth for sprig's layout engine (package abi).
 *
 * Code generated by abi/internal/golden (go generate ./abi); DO NOT EDIT.
 *
 * Every ABI's cross compiler builds this file with -c -O0; the numbers in
 * %s are read back from the object file (symbol value plus
 * section data, in the object's byte order). Nothing here is ever run and
 * nothing is included: the typedefs below are NetBSD's, per machine.
 * %s holds the matching names, NUL-separated, in the same
 * order. alignof(T) is the alignment T gets as a struct member, measured
 * as offsetof(struct { char c; T x; }, x), not __alignof__.
 *
 * Random structs: seed %#x, %d structs.
 */

`, ValuesSymbol, NamesSymbol, Seed, MixedCount)
	g.b.WriteString(prelude)

	g.printf("\n/* NetBSD's and sprig's typedefs. */\n")
	scalars := Scalars()
	for _, t := range scalars {
		g.scalarTypedef(t)
	}

	g.printf("\n/* Structs: NetBSD's, the traps, then the random ones. */\n")
	structs := Structs()
	for _, t := range structs {
		g.aggregate(t)
	}

	g.printf("/* Syscall argument structs (sys/syscallargs.h). */\n")
	for _, sc := range Syscalls() {
		g.printf("%s {\n", ArgsName(sc))
		for _, f := range sc.Args {
			g.printf("\tsyscallarg(%s) %s;\n", cScalar(f.Type), f.Name)
		}
		g.printf("};\n\n")
	}

	g.printf("/* In-struct alignment helpers: offsetof(x) is the alignment. */\n")
	for i, t := range scalars {
		c := cScalar(t)
		sep := " "
		if strings.HasSuffix(c, "*") {
			sep = ""
		}
		g.printf("struct %s { char c; %s%sx; };\n", alignHelper(i), c, sep)
	}
	for i, t := range structs {
		g.printf("struct %s { char c; %s x; };\n", alignHelper(1000+i), t.Name())
	}

	probes := Probes()
	g.printf("\nconst unsigned long long %s[%d] = {\n", ValuesSymbol, len(probes))
	for _, p := range probes {
		g.printf("\t%s, /* %s */\n", p.Expr, strings.ReplaceAll(p.Name, "*/", "* /"))
	}
	g.printf("};\n\nconst char %s[] =\n", NamesSymbol)
	for _, p := range probes {
		g.printf("\t%s\n", cString(p.Name+"\x00"))
	}
	g.printf("\t;\n")
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
