package abi

import (
	"regexp"
	"strings"
	"sync"
)

// Which macro names a conditional may not test while they are undefined.
//
// sprig's preprocessor defines none of the macros a compiler predefines
// per target (__LP64__, __x86_64__, __BYTE_ORDER__, __SIZEOF_LONG__), so
// a test of one would silently take the same branch for every ABI. Those
// tests are refused. Every other name is the source's own: an include
// guard (#ifndef __LINUX_NETLINK_H), a feature switch (__KERNEL__,
// __UAPI_DEF_ETHHDR), a macro the source defines or #undefs before it
// tests it. A name the source has defined or #undef'd is its own even
// when it is a compiler's: from there on its value is the source's on
// every ABI. Defining it only after the test (#ifndef __LP64__ / #define
// __LP64__ 0) does not make the test the source's: on a compiler that
// predefines the name the branch is skipped, elsewhere it is taken.
//
// The names are what the nine Debian cross GCCs predefine (gcc -dM -E,
// with -march/-m variants for x86, arm64, mips64 and ppc64), written as
// the families they come in; TestCompilerMacrosCoverGCC checks them
// against the installed compilers. The OS macros (__linux__, __NetBSD__)
// are among them: sprig defines neither, so a test of one would take the
// branch of no real system. Beside them, machineMacros are what machines'
// headers define per ABI (Linux's __BITS_PER_LONG, glibc's __BYTE_ORDER,
// NetBSD's _BYTE_ORDER).

// compilerMacroNames are the single names of compilerMacro.
var compilerMacroNames = map[string]bool{
	// data models and ABIs
	"_LP64": true, "__LP64__": true, "__LP64": true, "_ILP32": true, "__ILP32__": true, "_ABI64": true, "_ABIO32": true, "_ABIN32": true, "_ABIO64": true,
	"__CHAR_UNSIGNED__": true, "__WCHAR_UNSIGNED__": true, "__BIGGEST_ALIGNMENT__": true, "__STRUCT_PARM_ALIGN__": true,
	"_BIG_ENDIAN": true, "_LITTLE_ENDIAN": true, "_LONGLONG": true, "__LONGDOUBLE128": true, "__LONG_DOUBLE_128__": true, "__LONG_DOUBLE_IBM128__": true,
	// objects, code models and compiler versions
	"__ELF__": true, "__PIC__": true, "__pic__": true, "__PIE__": true, "__pie__": true, "__VERSION__": true, "__OPTIMIZE__": true,
	"__OPTIMIZE_SIZE__": true, "__NO_INLINE__": true, "__USER_LABEL_PREFIX__": true, "__REGISTER_PREFIX__": true,
	"__FINITE_MATH_ONLY__": true, "__HAVE_BSWAP__": true, "__HAVE_SPECULATION_SAFE_VALUE": true,
	"__BUILTIN_CPU_SUPPORTS__": true, "__PRAGMA_REDEFINE_EXTNAME": true, "__CMODEL_MEDIUM__": true, "__CMODEL_LARGE__": true,
	"__RECIPF__": true, "__RECIP__": true, "__RSQRTE__": true, "__RSQRTEF__": true, "__VEC_ELEMENT_REG_ORDER__": true,
	"_STDC_PREDEF_H": true, "__LANGUAGE_C": true, "__LANGUAGE_C__": true, "_LANGUAGE_C": true, "LANGUAGE_C": true, "__bool": true, "__vector": true, "__pixel": true,
	// operating systems
	"__linux": true, "__linux__": true, "linux": true, "__gnu_linux__": true, "__unix": true, "__unix__": true, "unix": true,
	"__NetBSD__": true, "__FreeBSD__": true, "__OpenBSD__": true, "__DragonFly__": true, "__APPLE__": true, "__MACH__": true,
	"_WIN32": true, "_WIN64": true, "__CYGWIN__": true, "__sun": true, "__svr4__": true, "__ANDROID__": true, "__gnu_hurd__": true,
	// machines, in the spellings without a family prefix below
	"i386": true, "mips": true, "_mips": true, "sparc": true, "powerpc": true, "PPC": true, "MIPSEB": true, "MIPSEL": true, "R3000": true, "R4000": true,
	"__arch64__": true, "__APCS_32__": true, "__ARCH__": true, "__VFP_FP__": true, "__SOFTFP__": true,
	// x86 instruction set extensions (-march)
	"__ABM__": true, "__ADX__": true, "__AES__": true, "__BMI__": true, "__BMI2__": true, "__CLDEMOTE__": true, "__CLFLUSHOPT__": true,
	"__CLWB__": true, "__CLZERO__": true, "__CRC32__": true, "__ENQCMD__": true, "__F16C__": true, "__FMA__": true, "__FMA4__": true,
	"__FSGSBASE__": true, "__FXSR__": true, "__GFNI__": true, "__HRESET__": true, "__KL__": true, "__LAHF_SAHF__": true, "__LWP__": true,
	"__LZCNT__": true, "__MOVBE__": true, "__MOVDIR64B__": true, "__MOVDIRI__": true, "__MWAITX__": true, "__PCLMUL__": true,
	"__PCONFIG__": true, "__PKU__": true, "__POPCNT__": true, "__PRFCHW__": true, "__PTWRITE__": true, "__RDPID__": true, "__RDRND__": true,
	"__RDSEED__": true, "__RTM__": true, "__SAHF__": true, "__SERIALIZE__": true, "__SGX__": true, "__SHA__": true, "__SHSTK__": true,
	"__TBM__": true, "__TSXLDTRK__": true, "__UINTR__": true, "__VAES__": true, "__VPCLMULQDQ__": true, "__WAITPKG__": true,
	"__WBNOINVD__": true, "__WIDEKL__": true, "__XOP__": true, "__XSAVE__": true, "__XSAVEC__": true, "__XSAVEOPT__": true, "__XSAVES__": true,
	"__3dNOW__": true, "__3dNOW_A__": true,
}

// compilerMacroPrefixes start the names of compilerMacro's families.
var compilerMacroPrefixes = []string{
	// sizes, limits and types of C's types
	"__SIZEOF_", "__SCHAR_", "__SHRT_", "__INT_", "__LONG_", "__LONG_LONG_", "__WCHAR_", "__WINT_",
	"__PTRDIFF_", "__SIZE_", "__SIG_ATOMIC_", "__CHAR8_", "__CHAR16_", "__CHAR32_", "__GCC_",
	"__GNUC_", "__GXX_", "__ATOMIC_", "__ORDER_",
	// floating point, decimal and fixed point
	"__FLT", "__DBL_", "__LDBL_", "__DEC32_", "__DEC64_", "__DEC128_", "__DECIMAL_", "__DEC_EVAL_",
	"__FP_FAST_",
	// machines
	"__x86_64", "__amd64", "__i386", "__i486", "__i586", "__i686", "__pentium", "__k6", "__k8",
	"__athlon", "__code_model_", "__SEG_", "__SSE", "__SSSE", "__AVX", "__MMX", "__AMX_", "__tune_",
	"__arm", "__ARM", "__thumb", "__THUMB", "__aarch64", "__AARCH64",
	"__mips", "__MIPS", "_MIPS", "__R3000", "__R4000", "_R3000", "_R4000",
	"__riscv", "__sparc", "__powerpc", "__PPC", "_ARCH_", "_CALL_", "__ALTIVEC", "__VSX", "__VEC__",
	"__s390", "__zarch", "__builtin_",
}

// compilerMacroShapes are the families of compilerMacro that a prefix
// does not catch: the stdint ones (__INT64_C, __UINT_FAST32_MAX__), the
// limits of the fixed-point types (__ULLACCUM_EPSILON__), byte orders,
// x86 -march CPU names (__haswell, __znver3__), and the __STDC_ ones of
// compilers and C libraries (not the requests __STDC_WANT_LIB_EXT1__ and
// __STDC_LIMIT_MACROS, which are the source's). Compiled on first use
// by compilerMacro, not at init: programs that parse no C (the guest)
// then link no regexp.
var compilerMacroShapes struct {
	once sync.Once
	re   *regexp.Regexp
}

const compilerMacroShapesExpr = `^(__U?INT(_LEAST|_FAST)?(8|16|32|64|MAX|PTR)_(C|MAX__|MIN__|TYPE__|WIDTH__)` +
	`|__U?(S|L|LL)?(ACCUM|FRACT)_(EPSILON|FBIT|IBIT|MAX|MIN)__` +
	`|__U?(Q|H|S|D|T)(Q|A)_(FBIT|IBIT)__` +
	`|__[A-Z]+_ENDIAN__|__[A-Z_]+_ORDER__` +
	`|__STDC_(IEC|ISO|UTF|NO|LIB|ANALYZABLE|MB_MIGHT)_\w*` +
	`|__(core2|corei7|nehalem|westmere|sandybridge|ivybridge|haswell|broadwell|skylake\w*|cannonlake|icelake\w*|cascadelake|cooperlake|tigerlake|sapphirerapids|alderlake|rocketlake|graniterapids|knl|knm|atom|bonnell|silvermont|goldmont\w*|tremont|znver\d|btver\d|bdver\d|amdfam10|nocona|prescott|geode)(__)?)$`

// machineMacros are what machines' headers (not compilers) define per
// ABI: word sizes and byte orders.
var machineMacros = map[string]bool{
	"__BITS_PER_LONG": true, "__WORDSIZE": true, "__BYTE_ORDER": true, "_BYTE_ORDER": true, "BYTE_ORDER": true,
	"__FLOAT_WORD_ORDER": true, "__LITTLE_ENDIAN_BITFIELD": true, "__BIG_ENDIAN_BITFIELD": true,
	"__BIG_ENDIAN": true, "__LITTLE_ENDIAN": true,
}

// neutralMacros are compilers' names a header may test although they are
// undefined here, because they mean the same on every ABI.
var neutralMacros = map[string]bool{
	"__cplusplus": true, "__STDC_HOSTED__": true, "__OBJC__": true, "__clang__": true,
	"__ASSEMBLER__": true, "__ASSEMBLY__": true, "_LOCORE": true, "__lint__": true,
}

// compilerMacro reports whether a C compiler predefines name for some
// targets (see above); neutral names excepted.
func compilerMacro(name string) bool {
	if neutralMacros[name] {
		return false
	}
	if compilerMacroNames[name] {
		return true
	}
	for _, p := range compilerMacroPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	compilerMacroShapes.once.Do(func() { compilerMacroShapes.re = regexp.MustCompile(compilerMacroShapesExpr) })
	return compilerMacroShapes.re.MatchString(name)
}
