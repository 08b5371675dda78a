// Package emu builds sprig's C reference client (emu/cclient) with real
// cross compilers and runs it on real or emulated CPUs (qemu-user), so
// that the C ABI of each machine is decided by its compiler and its CPU,
// not by sprig's own layout engine.
//
// The C client speaks sysproxy as NetBSD's librumpclient does: raw native
// structs, argument slots packed as NetBSD's syscallargs.h packs them,
// copy requests served from its own process memory. It runs the same
// scenarios as sprig's wasm guests and prints one guestapi.Result per
// scenario as a JSON line; Run parses them. A crash of the client (a
// misread pointer dereferenced) is a result with layer "crash", not an
// error.
//
// Targets lists the machines: the host (amd64, run directly) and i386,
// arm64, arm, mips, powerpc, sparc64 and riscv64 under qemu-<arch>-static.
// Build compiles the client statically for one target, caching the
// binary by a hash of the sources, the flags and the compiler's version,
// and checks the ELF machine, class and byte order of what it built.
// Where a compiler or qemu is missing, the error says which (a ToolError,
// errors.Is(err, ErrToolMissing)), so a caller can report the gap and go
// on.
//
// The package is not a server and does not predict outcomes: it only
// builds, runs and reports what the real machine did. It imports abi and
// guest/guestapi only.
package emu
