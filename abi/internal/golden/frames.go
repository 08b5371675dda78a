package golden

// Compiler-made frames: testdata/frames.c holds one initialised static
// object per frame header or body sprig encodes (the 24-byte header,
// rsp_sysresp, rsp_copydata with and without COPYOUT data,
// handshake_fork, the ANONMMAP size_t and void *, the handshake reply's
// int, every syscall argument struct, struct stat, dirent, timespec and
// tmpfs_args). Each ABI's compiler builds it; the object's bytes are read
// back from the data section with debug/elf, beside a table of what the
// compiler computed for each member (its value after C's conversion to
// the member's type, its offset and size). Package sp's tests encode the
// same values with sp's codec and abi/netbsd and require the same bytes,
// padding aside: padding is every byte no initialised member covers, by
// the compiler's own offsets. Nothing compiled is ever run.

import (
	"fmt"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// Frame object kinds: which encoder of sprig's a frame object is compared
// with. The names are the C types (or what they carry).
const (
	KindHeader        = "rsp_hdr"           // sp.Framer's header
	KindSysresp       = "rsp_sysresp"       // sp.Codec.Sysresp
	KindCopydata      = "rsp_copydata"      // sp.Codec.Copydata without data
	KindCopyout       = "rsp_copydata+data" // sp.Codec.Copydata with COPYOUT data
	KindHandshakeFork = "handshake_fork"    // sp.Codec.HandshakeFork
	KindInt           = "int"               // sp.Codec.Int (handshake reply)
	KindSize          = "size_t"            // sp.Codec.Size (ANONMMAP request)
	KindPointer       = "void *"            // sp.Codec.Pointer (ANONMMAP reply)
	KindArgs          = "syscallargs"       // netbsd Layouts.Args(n).Encode
	KindStat          = "struct stat"       // netbsd Layouts.Stat
	KindDirent        = "struct dirent"     // netbsd Layouts.Dirent (one record)
	KindTimespec      = "struct timespec"   // netbsd Layouts.Timespec
	KindTmpfsArgs     = "struct tmpfs_args" // netbsd Layouts.TmpfsArgs
)

// FrameObject is one initialised static object of frames.c.
type FrameObject struct {
	// Name is the object's key in golden files ("sysresp/pattern").
	Name string
	// Kind says which sprig encoder it is compared with.
	Kind string
	// CType is the object's C type ("struct rsp_sysresp", "size_t").
	CType string
	// Sysno is the syscall of a KindArgs object.
	Sysno netbsd.Sysno
	// Fields are the initialised members, in memory order of
	// declaration; a scalar object has one field with an empty path.
	Fields []FrameField
	// WireLen is a C expression for the bytes that go on the wire, when
	// that is not sizeof(CType): a dirent record is d_reclen bytes of a
	// struct dirent, COPYOUT is the fixed part and the data.
	WireLen string
}

// FrameField is one initialised member of a frame object.
type FrameField struct {
	// Path designates the member: "rsys_retval[1]", "st_atim.tv_sec";
	// for a syscall argument, the argument's name (its datum is
	// Path.SPRIG_DATUM). Empty for a scalar object.
	Path string
	// CType is the C type the value is converted to, as C converts an
	// initialiser: modulo 2^bits, two's complement for signed types.
	CType string
	// Value is the initialiser: a 64-bit pattern, narrowed by C.
	Value uint64
	// Expr, when set, is a C expression the compiler evaluates instead
	// of Value (d_reclen, which depends on the compiler's offset of
	// d_name).
	Expr string
	// Bytes, when set, initialise a char array member (d_name, COPYOUT
	// data); the rest of the array is zero, as C fills it.
	Bytes []byte
	// Arg marks a syscall argument: a syscallarg() slot.
	Arg bool
	// Pointer marks a pointer member, initialised from an integer.
	Pointer bool
}

// frameHeaderType is the sysproxy frame header as NetBSD's sp_common.c
// declares it (struct rsp_hdr): 24 bytes in the sender's byte order.
var frameHeaderType = abi.Struct("rsp_hdr",
	abi.F("rsp_len", abi.Uint64),
	abi.F("rsp_reqno", abi.Uint64),
	abi.F("rsp_class", abi.Uint16),
	abi.F("rsp_type", abi.Uint16),
	abi.F("u", abi.Union("",
		abi.F("sysnum", abi.Uint32),
		abi.F("error", abi.Uint32),
		abi.F("handshake", abi.Uint32),
		abi.F("signo", abi.Uint32),
	)),
)

// MAXNAMLEN is NetBSD's longest file name (sys/dirent.h).
const MAXNAMLEN = 511

// netbsdDirentType is struct dirent as NetBSD's sys/dirent.h declares it,
// with d_name[MAXNAMLEN + 1]; a getdents record is its first d_reclen
// bytes. sprig's netbsd.DirentType has a flexible d_name instead, but a
// static initialiser of a flexible array is a GNU extension whose object
// size differs between targets (gcc 12.2 makes the same 5-letter record
// 22 bytes on x86 and 16 on mips), so the record is cut from NetBSD's own
// type.
var netbsdDirentType = abi.Struct("dirent",
	abi.F("d_fileno", netbsd.InoT),
	abi.F("d_reclen", abi.Uint16),
	abi.F("d_namlen", abi.Uint16),
	abi.F("d_type", abi.Uint8),
	abi.F("d_name", abi.Array(abi.Char, MAXNAMLEN+1)),
)

// copyoutDataLen is the length of the COPYOUT data in the copyout object:
// odd, so that any struct alignment would show as tail bytes.
const copyoutDataLen = 7

// copyoutType is an rsp_copydata followed by its data, as the C server
// writes them one after the other (writev of the two).
var copyoutType = abi.Struct("sprig_copyout",
	abi.F("rcp_len", abi.SizeT),
	abi.F("rcp_addr", abi.Pointer),
	abi.F("rcp_data", abi.Array(abi.UChar, copyoutDataLen)),
)

// frameTypes are the aggregates frames.c declares, in order.
func frameTypes() []*abi.Type {
	var out []*abi.Type
	out = append(out, frameHeaderType)
	for _, t := range netbsd.StructTypes() {
		if t == netbsd.DirentType {
			t = netbsdDirentType
		}
		out = append(out, t)
	}
	return append(out, copyoutType)
}

// pattern hands out initialisers whose bytes are all different within
// one object and never zero. The value's top byte and, for wider ones,
// byte 3 (the top byte of its low half) have the high bit set, so a
// signed member is negative and a 64-bit one above 2^32 whether the ABI
// makes it 4 or 8 bytes wide (long, size_t, pointers, register_t); every
// other byte is below 0x80.
type pattern struct{ lo, hi int }

func newPattern() *pattern { return &pattern{lo: 0x01, hi: 0x81} }

// next returns a value for a member at most width bytes wide on any ABI.
func (p *pattern) next(width int) uint64 {
	var v uint64
	for j := 0; j < width; j++ {
		var b int
		if j == width-1 || j == 3 {
			b, p.hi = p.hi, p.hi+1
		} else {
			b, p.lo = p.lo, p.lo+1
		}
		if p.lo > 0x80 || p.hi > 0x100 {
			panic("golden: frame pattern ran out of distinct bytes")
		}
		v |= uint64(b) << (8 * j)
	}
	return v
}

// maxWidth is the largest size t has on any built-in ABI: what a member
// of that type needs from the pattern.
func maxWidth(t *abi.Type) int {
	w := 0
	for _, d := range abi.All() {
		if l, err := abi.NewLayout(d, t); err == nil {
			w = max(w, l.Size)
		}
	}
	return w
}

// scalarField is a field for a scalar member of type t at path.
func scalarField(path string, t *abi.Type, v uint64) FrameField {
	return FrameField{Path: path, CType: cScalar(t), Value: v, Pointer: t.Base() == abi.BasePointer}
}

// leafFields returns one patterned field per scalar of t (array elements
// one by one), with overrides for the paths in fixed.
func leafFields(t *abi.Type, p *pattern, fixed map[string]FrameField) []FrameField {
	var out []FrameField
	add := func(path string, st *abi.Type) {
		if f, ok := fixed[path]; ok {
			f.Path = path
			if f.CType == "" {
				f.CType = cScalar(st)
			}
			out = append(out, f)
			return
		}
		out = append(out, scalarField(path, st, p.next(maxWidth(st))))
	}
	for _, lf := range abi.LayoutOf(shape, t).Leaves() {
		if lf.Type.Kind() == abi.KindArray {
			if f, ok := fixed[lf.Path]; ok && f.Bytes != nil {
				f.Path = lf.Path
				out = append(out, f)
				continue
			}
			for i := 0; i < lf.Type.Len(); i++ {
				add(fmt.Sprintf("%s[%d]", lf.Path, i), lf.Type.Elem())
			}
			continue
		}
		add(lf.Path, lf.Type)
	}
	return out
}

// header is a frame header object with the given member values; u is
// set through the union member the frame's kind names.
func header(name string, length, reqno uint64, class, typ uint16, umember string, u uint32) FrameObject {
	f := func(path, ct string, v uint64) FrameField { return FrameField{Path: path, CType: ct, Value: v} }
	return FrameObject{Name: name, Kind: KindHeader, CType: frameHeaderType.Name(), Fields: []FrameField{
		f("rsp_len", "uint64_t", length), f("rsp_reqno", "uint64_t", reqno),
		f("rsp_class", "uint16_t", uint64(class)), f("rsp_type", "uint16_t", uint64(typ)),
		f("u."+umember, "uint32_t", uint64(u)),
	}}
}

// Header words as sysproxy.md section 3 numbers them (package abi cannot
// import sp, whose constants they are).
const (
	classReq, classResp, classError                   = 0, 1, 2
	typeHandshake, typeSyscall, typeCopyIn, typeRaise = 0, 1, 2, 8
	handshakeFork                                     = 2
	errMalformed                                      = 7 // MALFORMED_REQUEST
	sigTERM                                           = 15
)

// FrameObjects returns every object of frames.c, in order.
func FrameObjects() []FrameObject {
	var objs []FrameObject

	// Headers: every field with distinct bytes (class and type too,
	// which no real frame has), then real frames of several kinds. The
	// last announces a length no Framer would send: parsed only.
	objs = append(objs,
		header("header/every-byte", 0x9c8d, 0xf1e2d3c4b5a69788, 0xa1b2, 0xc3d4, "sysnum", 0xe5f60718),
		header("header/syscall-req", 0x0a7b, 0x8a7b6c5d4e3f2011, classReq, typeSyscall, "sysnum", uint32(netbsd.SYS___stat50)),
		header("header/syscall-resp", 24+24, 0x0102030405060708, classResp, typeSyscall, "sysnum", 0),
		header("header/error", 24, 0x8000000000000001, classError, typeSyscall, "error", errMalformed),
		header("header/handshake-fork", 24+20, 0, classReq, typeHandshake, "handshake", handshakeFork),
		header("header/copyin-req", 24+16, 0x00000001fffffffe, classReq, typeCopyIn, "sysnum", 0),
		header("header/raise", 24, 0x7f, classReq, typeRaise, "signo", sigTERM),
		header("header/len-64bit", 0x8796a5b4c3d2e1f0, 0x1122334455667788, classResp, typeSyscall, "sysnum", 0x99aabbcc),
	)

	// rsp_sysresp: a negative error and retvals using every register_t
	// bit; a two-value success (getpid); a plain errno.
	p := newPattern()
	objs = append(objs, FrameObject{Name: "sysresp/pattern", Kind: KindSysresp, CType: netbsd.SysrespType.Name(),
		Fields: leafFields(netbsd.SysrespType, p, nil)})
	objs = append(objs, FrameObject{Name: "sysresp/getpid", Kind: KindSysresp, CType: netbsd.SysrespType.Name(),
		Fields: leafFields(netbsd.SysrespType, nil, map[string]FrameField{
			"rsys_error": {Value: 0}, "rsys_retval[0]": {Value: 0x3a1f}, "rsys_retval[1]": {Value: 0x01},
		})})
	objs = append(objs, FrameObject{Name: "sysresp/enoent", Kind: KindSysresp, CType: netbsd.SysrespType.Name(),
		Fields: leafFields(netbsd.SysrespType, nil, map[string]FrameField{
			"rsys_error": {Value: uint64(netbsd.ENOENT)}, "rsys_retval[0]": {Value: 0}, "rsys_retval[1]": {Value: 0},
		})})

	// rsp_copydata: a COPYIN of a patterned length and address, a
	// COPYINSTR of a path, a COPYOUT with its data behind.
	p = newPattern()
	objs = append(objs, FrameObject{Name: "copydata/copyin", Kind: KindCopydata, CType: netbsd.CopydataType.Name(),
		Fields: []FrameField{scalarField("rcp_len", abi.SizeT, p.next(8)), scalarField("rcp_addr", abi.Pointer, p.next(8))}})
	objs = append(objs, FrameObject{Name: "copydata/copyinstr", Kind: KindCopydata, CType: netbsd.CopydataType.Name(),
		Fields: []FrameField{scalarField("rcp_len", abi.SizeT, 1024), scalarField("rcp_addr", abi.Pointer, 0x7fbc1230)}})
	p = newPattern()
	data := []byte{0xd1, 0x02, 0xe3, 0x04, 0xf5, 0x06, 0x97}
	objs = append(objs, FrameObject{Name: "copydata/copyout", Kind: KindCopyout, CType: copyoutType.Name(),
		Fields: []FrameField{scalarField("rcp_len", abi.SizeT, copyoutDataLen), scalarField("rcp_addr", abi.Pointer, p.next(8)),
			{Path: "rcp_data", Bytes: data}},
		WireLen: fmt.Sprintf("__builtin_offsetof(%s, rcp_data) + %d", copyoutType.Name(), copyoutDataLen)})

	// handshake_fork: a cookie, cancelled and not.
	for _, c := range []struct {
		name   string
		cancel uint64
	}{{"handshake_fork/cancel", 1}, {"handshake_fork/join", 0}} {
		objs = append(objs, FrameObject{Name: c.name, Kind: KindHandshakeFork, CType: netbsd.HandshakeForkType.Name(),
			Fields: leafFields(netbsd.HandshakeForkType, newPattern(), map[string]FrameField{"rf_cancel": {Value: c.cancel}})})
	}

	// ANONMMAP: the request's size_t, the reply's void * (NULL is the
	// client's ENOMEM); the handshake reply's int.
	scalar := func(name, kind string, t *abi.Type, v uint64) FrameObject {
		return FrameObject{Name: name, Kind: kind, CType: cScalar(t), Fields: []FrameField{scalarField("", t, v)}}
	}
	objs = append(objs,
		scalar("anonmmap-req/pattern", KindSize, abi.SizeT, newPattern().next(8)),
		scalar("anonmmap-req/64k", KindSize, abi.SizeT, 0x10000),
		scalar("anonmmap-resp/pattern", KindPointer, abi.Pointer, newPattern().next(8)),
		scalar("anonmmap-resp/null", KindPointer, abi.Pointer, 0),
		scalar("handshake-resp/ok", KindInt, abi.Int, 0),
		scalar("handshake-resp/pattern", KindInt, abi.Int, newPattern().next(4)),
	)

	// Every syscall argument struct sprig describes (a superset of what
	// the scenarios send): PAD is 0, as NetBSD's stubs set it.
	for _, sc := range Syscalls() {
		p := newPattern()
		o := FrameObject{Name: "args/" + sc.Name, Kind: KindArgs, CType: ArgsName(sc), Sysno: sc.Num}
		for _, a := range sc.Args {
			f := scalarField(a.Name, a.Type, 0)
			if a.Type != abi.Pad {
				f.Value = p.next(maxWidth(a.Type))
			}
			f.Arg = true
			o.Fields = append(o.Fields, f)
		}
		objs = append(objs, o)
	}

	// Structs the kernel copies out or in. st_spare is 0: sprig never
	// fills it and NetBSD's kernel zeroes it.
	objs = append(objs,
		FrameObject{Name: "stat", Kind: KindStat, CType: netbsd.StatType.Name(),
			Fields: leafFields(netbsd.StatType, newPattern(), map[string]FrameField{
				"st_spare[0]": {Value: 0}, "st_spare[1]": {Value: 0}})},
		FrameObject{Name: "timespec", Kind: KindTimespec, CType: netbsd.TimespecType.Name(),
			Fields: leafFields(netbsd.TimespecType, newPattern(), nil)},
		FrameObject{Name: "tmpfs_args", Kind: KindTmpfsArgs, CType: netbsd.TmpfsArgsType.Name(),
			Fields: leafFields(netbsd.TmpfsArgsType, newPattern(), nil)},
	)
	for _, name := range []string{"abcde", ".."} {
		objs = append(objs, direntObject(name))
	}
	return objs
}

// direntObject is one getdents record with a short name: d_reclen is
// NetBSD's _DIRENT_RECLEN, computed by the compiler from its own offset
// of d_name; the bytes after the name's NUL up to d_reclen are d_name's
// zero tail.
func direntObject(name string) FrameObject {
	reclen := fmt.Sprintf("((__builtin_offsetof(%s, d_name) + %d + 1 + 7) & ~7)", netbsdDirentType.Name(), len(name))
	p := newPattern()
	return FrameObject{
		Name: "dirent/" + strings.NewReplacer(".", "dot").Replace(name), Kind: KindDirent, CType: netbsdDirentType.Name(),
		Fields: leafFields(netbsdDirentType, p, map[string]FrameField{
			"d_reclen": {Expr: reclen},
			"d_namlen": {Value: uint64(len(name))},
			"d_type":   {Value: 0x8a},
			"d_name":   {Bytes: []byte(name)},
		}),
		WireLen: reclen,
	}
}
