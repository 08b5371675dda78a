package abi_test

import (
	"errors"
	"fmt"

	"github.com/rumpsprig/sprig/abi"
)

func ExampleLookup() {
	d, err := abi.Lookup("x86_64") // an alias; case does not matter
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Name, d.Endian, "pointer", d.Pointer.Size, "long long align", d.LongLong.Align)

	d = abi.MustLookup("i386")
	fmt.Println(d.Name, d.Endian, "pointer", d.Pointer.Size, "long long align", d.LongLong.Align)

	_, err = abi.Lookup("vax")
	fmt.Println(errors.Is(err, abi.ErrUnknownABI))
	// Output:
	// amd64 little pointer 8 long long align 8
	// i386 little pointer 4 long long align 4
	// true
}

// The same C struct laid out for three ABIs: i386 aligns long long to 4
// inside structs, ARM EABI and amd64 to 8.
func ExampleLayoutOf() {
	rec := abi.Struct("rec",
		abi.F("flags", abi.Int),
		abi.F("size", abi.LongLong),
		abi.F("name", abi.Array(abi.Char, 3)),
	)
	for _, name := range []string{"i386", "arm", "amd64"} {
		l := abi.LayoutOf(abi.MustLookup(name), rec)
		fmt.Printf("%-5s size %2d align %d:", name, l.Size, l.Align)
		for _, f := range l.Fields {
			fmt.Printf(" %s@%d", f.Name, f.Offset)
		}
		fmt.Println(" padding", l.Padding())
	}
	// Output:
	// i386  size 16 align 4: flags@0 size@4 name@12 padding [{15 1}]
	// arm   size 24 align 8: flags@0 size@8 name@16 padding [{4 4} {19 5}]
	// amd64 size 24 align 8: flags@0 size@8 name@16 padding [{4 4} {19 5}]
}

// Encode a Go value as the C struct's bytes for a big-endian machine and
// decode it back; Go fields match C members by tag or by name.
func ExampleLayout_Encode() {
	msg := abi.Struct("msg",
		abi.F("kind", abi.Uint16),
		abi.F("len", abi.Uint32),
		abi.F("tag", abi.Array(abi.Char, 4)),
	)
	type Msg struct {
		Kind uint16
		Len  uint32 `abi:"len"`
		Tag  string
	}
	l := abi.LayoutOf(abi.MustLookup("mips"), msg)
	b, err := l.Encode(Msg{Kind: 7, Len: 0x01020304, Tag: "hi"})
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)

	var back Msg
	if err := l.Decode(b, &back); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", back)

	_, err = abi.LayoutOf(abi.MustLookup("mips"), abi.Struct("p", abi.F("p", abi.Pointer))).
		Encode(struct{ P uint64 }{1 << 32})
	fmt.Println(err)
	// Output:
	// 00 07 00 00 01 02 03 04 68 69 00 00
	// {Kind:7 Len:16909060 Tag:hi}
	// abi: struct p.p: value 4294967296 does not fit void * (4 bytes)
}

// NetBSD's syscall slot rule: on sparc64 an int argument sits in the last
// four bytes of its 8-byte slot. Slot padding is set to the fill byte.
func ExampleSyscallArgs() {
	d := abi.MustLookup("sparc64")
	args := abi.SyscallArgs(d, abi.F("fd", abi.Int), abi.F("PAD", abi.Pad), abi.F("offset", abi.Int64))
	for _, s := range args.Slots {
		fmt.Printf("%-6s slot %2d+%d datum %2d+%d\n", s.Name, s.Offset, s.Size, s.Datum.Offset, s.Datum.Size)
	}
	b, err := args.Encode(0xee, 3, 0x1000)
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)
	vals, missing := args.Decode(b)
	fmt.Println(vals, missing)
	// Output:
	// fd     slot  0+8 datum  4+4
	// PAD    slot  8+8 datum 12+4
	// offset slot 16+8 datum 16+8
	// ee ee ee ee 00 00 00 03 ee ee ee ee 00 00 00 00 00 00 00 00 00 00 10 00
	// [3 4096] 0
}

// A machine sprig has no built-in descriptor for, described in JSON.
func ExampleParse() {
	d, err := abi.Parse([]byte(`{
		"name": "m68k", "machine": "mac68k", "machine_arch": "m68k", "endian": "big",
		"char": {"size": 1, "align": 1}, "short": {"size": 2, "align": 2},
		"int": {"size": 4, "align": 2}, "long": {"size": 4, "align": 2},
		"long_long": {"size": 8, "align": 2}, "pointer": {"size": 4, "align": 2},
		"size_t": {"size": 4, "align": 2}, "register_t": {"size": 4, "align": 2},
		"float": {"size": 4, "align": 2}, "double": {"size": 8, "align": 2},
		"char_signed": true, "register_t_signed": true
	}`))
	if err != nil {
		panic(err)
	}
	// abi.Register(d) would make abi.Lookup("m68k") find it too.
	l := abi.LayoutOf(d, abi.Struct("s", abi.F("c", abi.Char), abi.F("ll", abi.LongLong)))
	fmt.Println(l.Size, l.Offset("ll"))

	// Every field without a documented default is required.
	_, err = abi.Parse([]byte(`{"name": "bad", "machine": "x", "endian": "big"}`))
	var fe *abi.FieldError
	fmt.Println(errors.As(err, &fe), fe.Field)
	// Output:
	// 10 2
	// true char
}

// Read C declarations, bit-fields and attributes included, and lay the
// struct out for a little- and a big-endian machine: the bit-field's bits
// start at the other end of the byte.
func ExampleParseC() {
	decls, err := abi.ParseC("proto.h", []byte(`
		#include <stdint.h>
		enum kind { PING = 1, DATA = 2 };
		struct hdr {
			uint16_t len;
			enum kind kind : 4;
			unsigned urgent : 1;
			char tag[3];
		} __attribute__((packed));
	`))
	if err != nil {
		panic(err)
	}
	hdr, _ := decls.Type("hdr")
	for _, name := range []string{"amd64", "mips"} {
		l := abi.LayoutOf(abi.MustLookup(name), hdr)
		b := make([]byte, l.Size)
		if err := l.PutInt(b, "urgent", 1); err != nil {
			panic(err)
		}
		m, _ := l.Member("urgent")
		fmt.Printf("%-5s size %d urgent at byte %d bit %d: % x\n", name, l.Size, m.Offset, m.BitOffset, b)
	}
	// Output:
	// amd64 size 6 urgent at byte 2 bit 4: 00 00 10 00 00 00
	// mips  size 6 urgent at byte 2 bit 4: 00 00 08 00 00 00
}

// Build the same struct in Go: error-returning constructors for
// descriptions that come from outside the program.
func ExampleNewStruct() {
	flags, err := abi.NewStruct("flags",
		abi.F("c", abi.Char),
		abi.Bits("a", abi.UInt, 3),
		abi.Bits("", abi.Int, 0), // align the next member to an int
		abi.Bits("b", abi.UInt, 5))
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"amd64", "arm"} {
		l := abi.LayoutOf(abi.MustLookup(name), flags)
		fmt.Printf("%-5s size %d align %d b at byte %d\n", name, l.Size, l.Align, l.Offset("b"))
	}
	_, err = abi.NewStruct("bad", abi.Bits("x", abi.Double, 3))
	fmt.Println(errors.Is(err, abi.ErrBadType))
	// Output:
	// amd64 size 8 align 4 b at byte 4
	// arm   size 8 align 4 b at byte 4
	// true
}

// Any C spelling of a scalar finds the same Type.
func ExampleScalarNamed() {
	for _, s := range []string{"unsigned long long", "long long unsigned int", "uint64_t", "long int", "_Bool"} {
		t, err := abi.ScalarNamed(s)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-22q %-18s i386 size %d\n", s, t, abi.LayoutOf(abi.MustLookup("i386"), t).Size)
	}
	// Output:
	// "unsigned long long"   unsigned long long i386 size 8
	// "long long unsigned int" unsigned long long i386 size 8
	// "uint64_t"             uint64_t           i386 size 8
	// "long int"             long               i386 size 4
	// "_Bool"                _Bool              i386 size 1
}

// An Endian stores and reads integers of 1, 2, 4 or 8 bytes in its order.
func ExampleEndian_PutUint() {
	b := make([]byte, 4)
	for _, e := range []abi.Endian{abi.LittleEndian, abi.BigEndian} {
		e.PutUint(b, 4, 0x11223344)
		fmt.Printf("%s: % x, read back %#x\n", e, b, e.Uint(b, 4))
	}
	// Output:
	// little: 44 33 22 11, read back 0x11223344
	// big: 11 22 33 44, read back 0x11223344
}
