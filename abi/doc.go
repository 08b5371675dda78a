// Package abi describes C ABIs as data and lays out C structs for them.
//
// A Descriptor records what a C compiler for one machine decides about
// data: byte order, the size and in-struct alignment of each base type
// (char, short, int, long, long long, pointers, size_t, NetBSD's
// register_t, float, double) and the signedness of char and register_t.
// Built-in descriptors cover amd64, i386, arm64, aarch64eb, arm (earmv7hf),
// mips (o32, big-endian), powerpc, sparc64 and riscv64; Lookup finds them by
// name or alias, Load reads a user's descriptor from JSON, and Register
// makes it usable everywhere a built-in one is.
//
// A Type describes a C type once (scalars, typedefs, fixed and flexible
// arrays, nested structs and unions). LayoutOf places it for a descriptor,
// giving offsets, sizes, alignment and padding; the Layout encodes Go
// values into those bytes and decodes them back. SyscallArgs implements
// NetBSD's syscall-argument slot rule, where every argument takes a slot of
// at least register_t width and a narrower value sits at the end of its
// slot on big-endian machines.
//
// Every number is checked by this package's tests against tables that real
// cross compilers produced (testdata/golden). Go's own struct layout is
// never used to imitate C: it differs from C on several of these machines.
//
// The package knows nothing of NetBSD's structs themselves; those live in
// abi/netbsd.
package abi
