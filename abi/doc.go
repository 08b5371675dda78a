// Package abi describes C ABIs as data and lays out C structs for them.
//
// It is for programs that must produce or read the exact bytes a C
// program on another machine would: protocol implementations, test rigs,
// tools that compare struct layouts between machines. It is not a C
// compiler: it knows types and their layouts, not code, and it never uses
// Go's own struct layout to imitate C (that differs from C on several of
// these machines).
//
// # Descriptors
//
// A Descriptor records what a C compiler for one machine decides about
// data: byte order, the size and in-struct alignment of each base type
// (char, short, int, long, long long, pointers, size_t, NetBSD's
// register_t, float, double, _Bool, long double, __int128 where the ABI
// has it), the signedness of char and register_t, and whether unnamed
// bit-fields align their struct. Built-in descriptors cover amd64, i386,
// arm64, aarch64eb, arm (earmv7hf), mips (o32, big-endian), powerpc,
// sparc64 and riscv64; Lookup finds them by name or alias, Load and Parse
// read a user's descriptor (docs/abi-json.md), Resolve takes either, and
// Register makes a user descriptor usable everywhere a built-in one is.
// Descriptors are values: every lookup hands out a fresh copy.
//
//	d, err := abi.Lookup("i386")
//	l := abi.LayoutOf(d, abi.Struct("rec", abi.F("flags", abi.Int), abi.F("size", abi.LongLong)))
//	fmt.Println(l.Size, l.Offset("size")) // 12 4
//
// # Types
//
// A Type describes a C type once, for every ABI: the scalars (Scalars
// lists them, ScalarNamed finds one by any C spelling such as "unsigned
// long long" or "uint32_t"), typedefs, enums sized by their values,
// arrays of any rank (zero-length and flexible ones too), structs and
// unions with bit-fields, anonymous members, GNU packed and aligned(N)
// attributes and _Alignas on members, and empty structs. NewStruct,
// NewUnion, NewArray and NewEnum return an error for a description no C
// compiler accepts; Struct, Union, Array and Enum panic instead, for
// descriptions fixed in code.
//
// ParseC and ParseCFile read the same from C declarations, so a header
// of your own protocol becomes types without writing any of them in Go:
//
//	decls, err := abi.ParseC("proto.h", []byte("struct msg { uint16_t kind; unsigned flags : 3; char tag[5]; };"))
//	msg, _ := decls.Type("msg")
//
// They read real headers (include guards, macro calls over several
// lines, sizeof of fixed-width types), and refuse, naming the reason,
// what would make one declaration differ between ABIs: sizeof(long) or
// sizeof(void *) in a constant, a test of a compiler's per-target macro
// such as __LP64__ or __BYTE_ORDER__, #pragma pack.
//
// # Layouts
//
// NewLayout (or LayoutOf) places a Type for a descriptor following GCC's
// rules, bit-fields and attributes included: offsets, sizes, alignment,
// padding. Member and Field find a member by path ("st_atim.tv_sec",
// "cells[1][2].b"), Leaves lists every scalar member in memory order, and
// the Layout encodes Go values into those bytes and decodes them back
// (Encode, Decode, Int, PutInt). Convert moves the bytes of one type from
// one ABI's layout to another's. SyscallArgs implements NetBSD's
// syscall-argument slot rule, where every argument takes a slot of at
// least register_t width and a narrower value sits at the end of its slot
// on big-endian machines.
//
// Every number is checked by this package's tests against tables that
// the real cross compilers produced (testdata/golden, regenerated when
// the compilers are installed), and against thousands of random structs
// compiled the same way.
//
// The package knows nothing of NetBSD's structs themselves; those live in
// abi/netbsd.
package abi
