package abi_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
)

// The shapes below are those of real headers that an evaluation of
// ParseC against Linux's uapi headers found refused for no reason of
// principle: include guards named __X, macro calls over several lines,
// sizeof of fixed-width types, typeof. They are written out here (cut
// down from linux/netlink.h, linux/ip.h, linux/if_packet.h and the
// evaluation's typedef prelude) rather than read from /usr/include.

// uapiPrelude stands for what linux/types.h and asm/byteorder.h give.
const uapiPrelude = `#include <stdint.h>
typedef uint8_t __u8; typedef int8_t __s8;
typedef uint16_t __u16; typedef int16_t __s16;
typedef uint32_t __u32; typedef int32_t __s32;
typedef uint64_t __u64; typedef int64_t __s64;
typedef __u16 __be16; typedef __u32 __be32;
typedef __u16 __sum16;
typedef unsigned short __kernel_sa_family_t;
#define __LITTLE_ENDIAN_BITFIELD 1
#define __bitwise
#define __struct_group(TAG, NAME, ATTRS, ...) \
	union { struct { __VA_ARGS__ } ATTRS; struct TAG { __VA_ARGS__ } ATTRS NAME; } ATTRS
#define __DECLARE_FLEX_ARRAY(TYPE, NAME) struct { struct { } __empty_ ## NAME; TYPE NAME[]; }
`

const uapiNetlink = `/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef __LINUX_NETLINK_H
#define __LINUX_NETLINK_H

#include "prelude.h"
#include "prelude.h"

#define NETLINK_ROUTE		0	/* Routing/device hook				*/
#define MAX_LINKS 32

struct sockaddr_nl {
	__kernel_sa_family_t	nl_family;	/* AF_NETLINK	*/
	unsigned short	nl_pad;		/* zero		*/
	__u32		nl_pid;		/* port ID	*/
       	__u32		nl_groups;	/* multicast groups mask */
};

struct nlmsghdr {
	__u32		nlmsg_len;	/* Length of message including header */
	__u16		nlmsg_type;	/* Message content */
	__u16		nlmsg_flags;	/* Additional flags */
	__u32		nlmsg_seq;	/* Sequence number */
	__u32		nlmsg_pid;	/* Sending process port ID */
};

#define NLMSG_ALIGNTO	4U
#define NLMSG_ALIGN(len) ( ((len)+NLMSG_ALIGNTO-1) & ~(NLMSG_ALIGNTO-1) )
#define NLMSG_HDRLEN	 ((int) NLMSG_ALIGN(sizeof(struct nlmsghdr)))

struct nlmsgerr {
	int		error;
	struct nlmsghdr msg;
};

struct nlattr {
	__u16           nla_len;
	__u16           nla_type;
};

#endif /* __LINUX_NETLINK_H */
`

const uapiIP = `#ifndef _LINUX_IP_H
#define _LINUX_IP_H
#include "prelude.h"

struct iphdr {
#if defined(__LITTLE_ENDIAN_BITFIELD)
	__u8	ihl:4,
		version:4;
#elif defined (__BIG_ENDIAN_BITFIELD)
	__u8	version:4,
  		ihl:4;
#else
#error	"Please fix <asm/byteorder.h>"
#endif
	__u8	tos;
	__be16	tot_len;
	__be16	id;
	__be16	frag_off;
	__u8	ttl;
	__u8	protocol;
	__sum16	check;
	__struct_group(/* no tag */, addrs, /* no attrs */,
		__be32	saddr;
		__be32	daddr;
	);
	/*The options start here. */
};

struct ip_auth_hdr {
	__u8  nexthdr;
	__u8  hdrlen;		/* This one is measured in 32 bit units! */
	__be16 reserved;
	__be32 spi;
	__be32 seq_no;		/* Sequence number */
	__u8  auth_data[];	/* Variable len but >=4. Mind the 64 bit alignment! */
};
#endif /* _LINUX_IP_H */
`

const uapiIfPacket = `/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef __LINUX_IF_PACKET_H
#define __LINUX_IF_PACKET_H

#include "prelude.h"

struct sockaddr_ll {
	unsigned short	sll_family;
	__be16		sll_protocol;
	int		sll_ifindex;
	unsigned short	sll_hatype;
	unsigned char	sll_pkttype;
	unsigned char	sll_halen;
	unsigned char	sll_addr[8];
};

struct tpacket_hdr {
	unsigned long	tp_status;
	unsigned int	tp_len;
	unsigned int	tp_snaplen;
	unsigned short	tp_mac;
	unsigned short	tp_net;
	unsigned int	tp_sec;
	unsigned int	tp_usec;
};

#define TPACKET_ALIGNMENT	16
#define TPACKET_ALIGN(x)	(((x)+TPACKET_ALIGNMENT-1)&~(TPACKET_ALIGNMENT-1))
#define TPACKET_HDRLEN		(TPACKET_ALIGN(sizeof(struct tpacket_hdr)) + sizeof(struct sockaddr_ll))

struct tpacket_bd_header_u {
	__u32	bh1;
};

struct tpacket_hdr_v1 {
	__u32	block_status;
	__u32	num_pkts;
	__u32	offset_to_first_pkt;
};

struct tpacket_block_desc {
	__u32 version;
	__u32 offset_to_priv;
	union {
		struct tpacket_hdr_v1 bh1;
	} hdr;
};

struct packet_mreq {
	int		mr_ifindex;
	unsigned short	mr_type;
	unsigned short	mr_alen;
	unsigned char	mr_address[8];
};

#endif
`

// TestParseCLinuxUAPIShapes parses the cut-down uapi headers as files
// (each includes the prelude, some twice, as the real ones include
// linux/types.h) and checks their layouts. The numbers are the cross
// compilers' (x86_64-, i686-, arm-linux-gnueabihf-, mips- and
// sparc64-linux-gnu-gcc, measured with _Static_assert on the full
// headers when this test was written).
func TestParseCLinuxUAPIShapes(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{"prelude.h": uapiPrelude, "netlink.h": uapiNetlink, "ip.h": uapiIP, "if_packet.h": uapiIfPacket} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
	}
	type want struct {
		abi         string
		size, align int
	}
	for _, tc := range []struct {
		file, typ string
		want      []want
		members   map[string]int // amd64 offsets
	}{
		{"netlink.h", "struct nlmsghdr", []want{{"amd64", 16, 4}, {"i386", 16, 4}, {"mips", 16, 4}}, map[string]int{"nlmsg_seq": 8}},
		{"netlink.h", "struct sockaddr_nl", []want{{"amd64", 12, 4}, {"sparc64", 12, 4}}, nil},
		{"netlink.h", "struct nlmsgerr", []want{{"amd64", 20, 4}}, map[string]int{"msg.nlmsg_pid": 16}},
		{"netlink.h", "struct nlattr", []want{{"amd64", 4, 2}, {"arm", 4, 2}}, nil},
		{"ip.h", "struct iphdr", []want{{"amd64", 20, 4}, {"i386", 20, 4}, {"arm", 20, 4}, {"mips", 20, 4}, {"sparc64", 20, 4}},
			map[string]int{"check": 10, "saddr": 12, "daddr": 16, "addrs.saddr": 12, "addrs.daddr": 16}},
		{"ip.h", "struct ip_auth_hdr", []want{{"amd64", 12, 4}}, map[string]int{"auth_data": 12}},
		{"if_packet.h", "struct tpacket_hdr", []want{{"amd64", 32, 8}, {"i386", 24, 4}, {"arm", 24, 4}, {"mips", 24, 4}, {"sparc64", 32, 8}},
			map[string]int{"tp_len": 8, "tp_usec": 24}},
		{"if_packet.h", "struct sockaddr_ll", []want{{"amd64", 20, 4}, {"mips", 20, 4}}, nil},
		{"if_packet.h", "struct tpacket_block_desc", []want{{"amd64", 20, 4}}, map[string]int{"hdr.bh1.num_pkts": 12}},
	} {
		d, err := abi.ParseCFile(filepath.Join(dir, tc.file))
		require.NoError(t, err, tc.file)
		typ, ok := d.Type(tc.typ)
		require.True(t, ok, "%s: %s", tc.file, tc.typ)
		for _, w := range tc.want {
			l := abi.LayoutOf(abi.MustLookup(w.abi), typ)
			assert.Equal(t, [2]int{w.size, w.align}, [2]int{l.Size, l.Align}, "%s on %s", tc.typ, w.abi)
		}
		l := abi.LayoutOf(abi.MustLookup("amd64"), typ)
		for path, off := range tc.members {
			m, err := l.Member(path)
			if assert.NoError(t, err, "%s.%s", tc.typ, path) {
				assert.Equal(t, off, m.Offset, "%s.%s", tc.typ, path)
			}
		}
	}
	// The guard's macro and the header's constants are the header's own.
	d, err := abi.ParseCFile(filepath.Join(dir, "netlink.h"))
	require.NoError(t, err)
	v, ok := d.Constant("MAX_LINKS")
	assert.True(t, ok)
	assert.Equal(t, int64(32), v)
}

// TestParseCSourceMacros: a conditional may test any macro that is the
// source's own, whatever its spelling: an include guard, a switch that
// is simply undefined, one the source defined or #undef'd before.
func TestParseCSourceMacros(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // the structs declared
	}{
		{"guard __X", "#ifndef __MY_H\n#define __MY_H\nstruct g { int x; };\n#endif\n", []string{"struct g"}},
		{"guard __X_H__", "#ifndef __MY_H__\n#define __MY_H__ 1\nstruct g { int x; };\n#endif /* __MY_H__ */\n", []string{"struct g"}},
		{"guard _X_", "#ifndef _MY_H_\n#define _MY_H_\nstruct g { int x; };\n#endif\n", []string{"struct g"}},
		{"guard with a blank line and a comment", "#ifndef __LINUX_IF_PACKET_H\n\n/* x */\n#define __LINUX_IF_PACKET_H\nstruct g { int x; };\n#endif\n", []string{"struct g"}},
		{"guard read twice", "#ifndef __A_H\n#define __A_H\nstruct g { int x; };\n#endif\n#ifndef __A_H\nstruct twice { int y; };\n#endif\n", []string{"struct g"}},
		{"undefined switch", "#ifdef __KERNEL__\nstruct k { int x; };\n#else\nstruct u { int x; };\n#endif\n", []string{"struct u"}},
		{"undefined switch in #if", "#if defined(__UAPI_DEF_ETHHDR) && __UAPI_DEF_ETHHDR\nstruct e { int x; };\n#endif\nstruct u { int x; };\n", []string{"struct u"}},
		{"compiler name defined by the source", "#define __LP64__ 1\n#if __LP64__\nstruct w { long x; };\n#endif\n", []string{"struct w"}},
		{"compiler name #undef'd by the source", "#undef __x86_64__\n#ifdef __x86_64__\nstruct a { int x; };\n#else\nstruct b { int x; };\n#endif\n", []string{"struct b"}},
		{"machine macro supplied by #ifndef/#define", "#ifndef __LITTLE_ENDIAN_BITFIELD\n#define __LITTLE_ENDIAN_BITFIELD\n#endif\n#ifdef __LITTLE_ENDIAN_BITFIELD\nstruct le { int x; };\n#endif\n", []string{"struct le"}},
		{"neutral compiler names", "#if defined(__cplusplus) || defined(__ASSEMBLY__)\nstruct no { int x; };\n#endif\n#if __STDC_VERSION__ >= 201112L && __CHAR_BIT__ == 8\nstruct c11 { int x; };\n#endif\n", []string{"struct c11"}},
	} {
		d, err := abi.ParseC("t.h", []byte(tc.src))
		if !assert.NoError(t, err, tc.name) {
			continue
		}
		var got []string
		for _, s := range d.Structs() {
			got = append(got, s.Name())
		}
		assert.Equal(t, tc.want, got, tc.name)
	}
}

// TestParseCRefusesABIMacros: a test of a macro that compilers predefine
// per target, or machines' headers define per ABI, is still refused with
// its reason, even where the source defines it after the test.
func TestParseCRefusesABIMacros(t *testing.T) {
	const compiler = "a compiler macro that differs between ABIs; sprig reads one declaration for every ABI, so write the declaration without it"
	const machine = "a machine header's macro that differs between ABIs"
	for _, tc := range []struct {
		src, name, why string
	}{
		{"#ifdef __LP64__\nstruct t { long a; };\n#else\nstruct t { long long a; };\n#endif\n", "__LP64__", compiler},
		{"#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__\nstruct b { int hi : 4, lo : 4; };\n#endif\n", "__BYTE_ORDER__", compiler},
		{"#if defined(__x86_64__) || defined(__i386__)\n#endif\n", "__x86_64__", compiler},
		{"#if __SIZEOF_LONG__ == 8\n#endif\n", "__SIZEOF_LONG__", compiler},
		{"#ifdef __ILP32__\n#endif\n", "__ILP32__", compiler},
		{"#ifdef __BIG_ENDIAN__\n#endif\n", "__BIG_ENDIAN__", compiler},
		{"#ifdef _LP64\n#endif\n", "_LP64", compiler},
		{"#ifdef __CHAR_UNSIGNED__\n#endif\n", "__CHAR_UNSIGNED__", compiler},
		{"#if 0\n#elif defined __mips__\n#endif\n", "__mips__", compiler},
		{"#if __INTPTR_WIDTH__ == 64\n#endif\n", "__INTPTR_WIDTH__", compiler},
		{"#ifdef __NetBSD__\n#endif\n", "__NetBSD__", compiler},
		{"#define IS64 (__SIZEOF_POINTER__ == 8)\n#if IS64\n#endif\n", "__SIZEOF_POINTER__", compiler},
		// Defining it afterwards does not make the test the source's: a
		// compiler that predefines it skips the #define.
		{"#ifndef __LP64__\n#define __LP64__ 0\n#endif\n", "__LP64__", compiler},
		{"#if __BITS_PER_LONG == 64\n#endif\n", "__BITS_PER_LONG", machine},
		{"#if _BYTE_ORDER == _LITTLE_ENDIAN\n#endif\n", "_BYTE_ORDER", machine},
		{"#ifdef __BIG_ENDIAN_BITFIELD\n#endif\n", "__BIG_ENDIAN_BITFIELD", machine},
	} {
		_, err := abi.ParseC("t.h", []byte(tc.src))
		if assert.Error(t, err, tc.src) {
			assert.ErrorIs(t, err, abi.ErrCSyntax)
			assert.ErrorContains(t, err, "the condition tests "+tc.name+", "+tc.why, tc.src)
		}
	}
}

// sprigDefines are the names the GCCs predefine that sprig defines too
// (the same on every ABI), or that GCC's PowerPC AltiVec defines as
// context-sensitive keywords rather than for conditions.
var sprigDefines = map[string]bool{
	"__STDC__": true, "__STDC_VERSION__": true, "__STDC_HOSTED__": true, "__GNUC__": true,
	"__GNUC_MINOR__": true, "__CHAR_BIT__": true,
	"bool": true, "_Bool": true, "vector": true, "pixel": true,
}

// TestCompilerMacrosCoverGCC asks each built-in ABI's cross compiler
// (and x86-64's with -march=x86-64-v4, for the instruction set macros)
// which macros it predefines, and requires ParseC to refuse a test of
// every one of them but sprigDefines.
func TestCompilerMacrosCoverGCC(t *testing.T) {
	var compilers [][]string
	for _, d := range abi.Builtins() {
		if len(d.Compiler) > 0 {
			compilers = append(compilers, d.Compiler)
		}
	}
	compilers = append(compilers, []string{"x86_64-linux-gnu-gcc", "-march=x86-64-v4"})
	names := map[string]bool{}
	ran := 0
	for _, cc := range compilers {
		path, err := exec.LookPath(cc[0])
		if err != nil {
			t.Logf("%s not installed: its macros not checked", cc[0])
			continue
		}
		out, err := exec.Command(path, append(cc[1:], "-dM", "-E", "-x", "c", os.DevNull)...).Output()
		require.NoError(t, err, "%v", cc)
		ran++
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 2 && f[0] == "#define" {
				names[strings.SplitN(f[1], "(", 2)[0]] = true
			}
		}
	}
	if ran == 0 {
		t.Skip("no cross compiler installed: cannot ask which macros they predefine")
	}
	refused := 0
	for name := range names {
		_, err := abi.ParseC("t.h", []byte("#ifdef "+name+"\n#endif\n"))
		if sprigDefines[name] {
			assert.NoError(t, err, name)
			continue
		}
		if assert.Error(t, err, "%s: a compiler predefines it, sprig accepts a test of it", name) {
			assert.ErrorContains(t, err, "a compiler macro that differs between ABIs", name)
			refused++
		}
	}
	t.Logf("%d compilers predefine %d names; %d refused, %d defined by sprig too", ran, len(names), refused, len(names)-refused)
}

// TestParseCMultiLineMacroCalls: a function-like macro's arguments may
// run over several lines, as __struct_group's do in linux/ip.h.
func TestParseCMultiLineMacroCalls(t *testing.T) {
	for _, tc := range []struct {
		name, src, typ string
		size           int              // on amd64
		members        map[string]int   // offsets on amd64
		consts         map[string]int64 // enumerators
	}{
		{name: "two lines", src: "#define M(a, b) a b;\nstruct m { M(int,\n x) };\n", typ: "struct m", size: 4, members: map[string]int{"x": 0}},
		{name: "__struct_group", src: uapiPrelude + "struct s {\n\t__u16 len;\n\t__struct_group(/* no tag */, addrs, /* no attrs */,\n\t\t__be32\tsaddr;\n\t\t__be32\tdaddr;\n\t);\n};\n",
			typ: "struct s", size: 12, members: map[string]int{"saddr": 4, "daddr": 8, "addrs.daddr": 8}},
		{name: "__struct_group with a tag and attributes", src: uapiPrelude + "struct s {\n\tchar c;\n\t__struct_group(hdr, h, __attribute__((packed)),\n\t\t__u8 kind;\n\n\t\t__u32 val;\n\t);\n};\n",
			typ: "struct s", size: 6, members: map[string]int{"val": 2, "h.val": 2}},
		{name: "nested parentheses over lines", src: "#define N(x) (x)\n#define A(t, n) t n;\nstruct a { A(char,\n  c[N((2 +\n 3))]) };\n", typ: "struct a", size: 5},
		{name: "enum value", src: "#define SUM(a, b,\\\n c) ((a) + (b) + (c))\nenum { E = SUM(1,\n 2,\n\n 3) };\nstruct e { char c[E]; };\n", typ: "struct e", size: 6, consts: map[string]int64{"E": 6}},
		{name: "flex array macro", src: uapiPrelude + "struct f {\n\t__u32 n;\n\t__DECLARE_FLEX_ARRAY(__u8,\n\t\tdata);\n};\n", typ: "struct f", size: 4, members: map[string]int{"data": 4}},
	} {
		d, err := abi.ParseC("t.h", []byte(tc.src))
		if !assert.NoError(t, err, tc.name) {
			continue
		}
		typ, ok := d.Type(tc.typ)
		require.True(t, ok, tc.name)
		l := abi.LayoutOf(abi.MustLookup("amd64"), typ)
		assert.Equal(t, tc.size, l.Size, tc.name)
		for path, off := range tc.members {
			m, err := l.Member(path)
			if assert.NoError(t, err, "%s: %s", tc.name, path) {
				assert.Equal(t, off, m.Offset, "%s: %s", tc.name, path)
			}
		}
		for n, v := range tc.consts {
			got, ok := d.Constant(n)
			assert.True(t, ok, "%s: %s", tc.name, n)
			assert.Equal(t, v, got, "%s: %s", tc.name, n)
		}
	}
	// A call left open reports where it began; a directive inside one
	// is refused (GCC's extension, not C).
	for _, tc := range []struct{ src, want string }{
		{"#define M(a, b) a b;\nstruct m { M(int,\n x };\n", "t.h:2: macro M: unterminated argument list"},
		{"#define M(a, b) a b;\nstruct m { M(int,\n#ifdef X\n x)\n#endif\n };\n", "t.h:2: macro M: unterminated argument list at the directive on t.h:3"},
	} {
		_, err := abi.ParseC("t.h", []byte(tc.src))
		assert.ErrorContains(t, err, tc.want, tc.src)
	}
}

// TestParseCSizeofFixed: sizeof and _Alignof of a type that measures the
// same on every ABI a descriptor can describe are numbers.
func TestParseCSizeofFixed(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want int
	}{
		{"sizeof(uint32_t)", 4},
		{"sizeof(char)", 1},
		{"sizeof(unsigned char)", 1},
		{"sizeof(int8_t) + sizeof(uint16_t) + sizeof(int64_t)", 11},
		{"sizeof(short)", 2},
		{"sizeof(int)", 4},
		{"sizeof(unsigned long long)", 8},
		{"sizeof(double)", 8},
		{"sizeof(u32)", 4},          // a typedef of one
		{"sizeof(uint8_t[6])", 6},   // an array of one
		{"sizeof(char[2][3])", 6},   // of any rank
		{"sizeof(struct mac)", 6},   // a struct of chars
		{"sizeof(struct two)", 8},   // of like members: no padding on any ABI
		{"sizeof(struct pk)", 5},    // packed
		{"sizeof(struct al)", 8},    // aligned(8) outgrows every alignment
		{"sizeof(enum small)", 4},   // enums are int-sized
		{"_Alignof(char)", 1},       // char is 1-aligned everywhere
		{"_Alignof(struct mac)", 1}, // and so is a struct of chars
		{"alignof(struct al)", 8},
		{"2 * sizeof(uint32_t) - 1", 7},
		{"sizeof (uint16_t)", 2},
	} {
		src := `typedef uint32_t u32;
struct mac { uint8_t a[6]; };
struct two { uint32_t a, b; };
struct pk { char c; uint32_t v; } __attribute__((packed));
struct al { char c; } __attribute__((aligned(8)));
enum small { ONE = 1 };
struct s { char buf[` + tc.expr + `]; };
`
		d, err := abi.ParseC("t.h", []byte(src))
		if !assert.NoError(t, err, tc.expr) {
			continue
		}
		s, _ := d.Type("struct s")
		for _, desc := range abi.Builtins() {
			assert.Equal(t, tc.want, abi.LayoutOf(desc, s).Size, "%s on %s", tc.expr, desc.Name)
		}
	}
	// The evaluation's sizeof_fixed.h and typeof.h.
	d, err := abi.ParseC("t.h", []byte("#include <stdint.h>\nstruct a { char b[sizeof(uint32_t)]; };\nstruct t { int x; __typeof__(int) y; };\n"))
	require.NoError(t, err)
	a, _ := d.Type("struct a")
	assert.Equal(t, 4, abi.LayoutOf(abi.MustLookup("amd64"), a).Size)
	// _Alignas(type) for a type aligned alike everywhere.
	d, err = abi.ParseC("t.h", []byte("struct at { char c; _Alignas(char) char d; _Alignas(struct { char x; } __attribute__((aligned(4)))) char e; };"))
	require.NoError(t, err)
	at, _ := d.Type("struct at")
	l := abi.LayoutOf(abi.MustLookup("i386"), at)
	assert.Equal(t, [2]int{8, 4}, [2]int{l.Size, l.Align})
}

// TestParseCSizeofRefusals: sizeof, _Alignof and _Alignas of a type that
// measures differently between ABIs stay refused, each with its reason.
func TestParseCSizeofRefusals(t *testing.T) {
	const differs = "in a declaration: its value differs between ABIs"
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{"sizeof(long)", []string{"sizeof " + differs, "sizeof(long): 8 on amd64, 4 on i386", "write the number"}},
		{"sizeof(unsigned long) * 2", []string{"sizeof " + differs, "8 on amd64, 4 on i386"}},
		{"sizeof(void *)", []string{"sizeof " + differs, "sizeof(void *): 8 on amd64, 4 on i386"}},
		{"sizeof(size_t)", []string{"sizeof " + differs, "sizeof(size_t)"}},
		{"sizeof(struct ptr)", []string{"sizeof " + differs, "sizeof(struct ptr): 16 on amd64, 8 on i386"}},
		{"sizeof(struct ll)", []string{"sizeof " + differs, "sizeof(struct ll): 16 on amd64, 12 on i386"}},
		{"sizeof(struct pad)", []string{"sizeof " + differs, "8 on every built-in ABI, but it rests on alignments C leaves to the ABI"}},
		{"sizeof(long double)", []string{"sizeof " + differs, "sizeof(long double)"}},
		{"sizeof(__int128)", []string{"sizeof " + differs, "__int128 is not on every ABI (i386 has none)"}},
		{"sizeof(_Bool)", []string{"sizeof " + differs, "sizeof(_Bool): 1 on every built-in ABI, but"}},
		{"sizeof(struct bf)", []string{"sizeof " + differs, "struct bf holds bit-fields"}},
		{"_Alignof(uint64_t)", []string{"_Alignof " + differs, "_Alignof(uint64_t): 8 on amd64, 4 on i386"}},
		{"_Alignof(uint32_t)", []string{"_Alignof " + differs, "_Alignof(uint32_t): 4 on every built-in ABI, but it rests on alignments"}},
		{"__alignof__(char)", []string{"__alignof__ in a declaration: it is GCC's preferred alignment"}},
		{"offsetof(struct pad, x)", []string{"offsetof " + differs}},
		{"__builtin_offsetof(struct pad, x)", []string{"__builtin_offsetof " + differs}},
		{"sizeof(n)", []string{"sizeof of an expression: sprig evaluates sizeof(type) only"}},
		{"sizeof 4", []string{"sizeof of an expression"}},
		{"sizeof(struct nowhere)", []string{"sizeof " + differs, "struct nowhere is not on every ABI"}},
	} {
		src := `struct ptr { char *p; long n; };
struct ll { char c; uint64_t v; };
struct pad { char c; uint32_t x; };
struct bf { uint32_t a : 3; };
struct s { char buf[` + tc.expr + `]; };
`
		_, err := abi.ParseC("t.h", []byte(src))
		if assert.Error(t, err, tc.expr) {
			assert.ErrorIs(t, err, abi.ErrCSyntax)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w, tc.expr)
			}
		}
	}
	for _, tc := range []struct{ src, want string }{
		{"#include <stdint.h>\nstruct at { char c; _Alignas(uint64_t) short e; };", "_Alignas(type): the alignment of a type differs between ABIs (uint64_t: 8 on amd64, 4 on i386); write a number"},
		{"struct at { _Alignas(int) char e; };", "_Alignas(type): the alignment of a type differs between ABIs (int: 4 on every built-in ABI, but it rests on alignments C leaves to the ABI (m68k aligns int to 2)); write a number"},
		{"struct s { char buf[sizeof(long) * 2]; };", "t.h:1: sizeof in a declaration: its value differs between ABIs"},
		{"struct t { __typeof__(x) y; };", "__typeof__ of an expression: sprig evaluates __typeof__(type) only"},
		{"struct t { typeof(int) long y; };", "two types in one declaration"},
	} {
		_, err := abi.ParseC("t.h", []byte(tc.src))
		assert.ErrorContains(t, err, tc.want, tc.src)
	}
}

// TestParseCTypeof: typeof of a type name is that type.
func TestParseCTypeof(t *testing.T) {
	d, err := abi.ParseC("t.h", []byte(`struct in { char c; uint16_t v; };
typedef __typeof__(struct in) in_t;
struct t {
	int x;
	__typeof__(int) y;
	typeof(uint64_t) z[2];
	__typeof(in_t) *p;
	const __typeof__(char [3]) s;
};
`))
	require.NoError(t, err)
	s, _ := d.Type("struct t")
	for _, tc := range []struct {
		abi           string
		size, z, p, s int
	}{{"amd64", 40, 8, 24, 32}, {"i386", 32, 8, 24, 28}} {
		l := abi.LayoutOf(abi.MustLookup(tc.abi), s)
		assert.Equal(t, tc.size, l.Size, tc.abi)
		for path, off := range map[string]int{"z": tc.z, "p": tc.p, "s": tc.s} {
			m, err := l.Member(path)
			require.NoError(t, err)
			assert.Equal(t, off, m.Offset, "%s on %s", path, tc.abi)
		}
	}
	in, _ := d.Type("in_t")
	assert.Equal(t, 4, abi.LayoutOf(abi.MustLookup("amd64"), in).Size)
}
