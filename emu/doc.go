// Package emu builds sprig's client programs for real machines with real
// compilers and runs them on real or emulated CPUs (qemu-user), so that
// what a machine does is decided by its compiler and its CPU, not by
// sprig's own layout engine alone.
//
// Two programs, one mechanism (Program):
//
//   - CClient, the C reference client (emu/cclient), built with Debian's
//     C cross compilers. It speaks sysproxy as NetBSD's librumpclient
//     does: raw native structs laid out by the compiler, argument slots
//     packed as NetBSD's syscallargs.h packs them, copy requests served
//     from its own process memory, so a misread pointer really faults. It
//     speaks only its own ABI, natively.
//   - GoRunner, sprig's own scenario suite as a native program
//     (guest/native), cross-built with the Go toolchain
//     (CGO_ENABLED=0, no C toolchain needed) for amd64, 386, arm (GOARM=7),
//     arm64, mips, riscv64, ppc64 and s390x, in every mode.
//
// Both run the scenarios of sprig's wasm guests and print one
// guestapi.Result per scenario as a JSON line; Binary.Run parses them. A
// crash of the C client (a misread pointer dereferenced) is a result with
// layer "crash", not an error.
//
// A caller that wants every program able to act as a client of ABI X
// asks ClientsOf(X), checks each target's tools (Target.Check: a missing
// compiler or qemu is a ToolError, errors.Is(err, ErrToolMissing)),
// builds it (Build: cached by a hash of everything that goes into the
// binary, its ELF machine, class and byte order checked) and runs it
// against a server URL in one of Target.Modes (Binary.Run). The Run holds
// the results and the Tools that made them: the compiler's or Go's
// version and qemu's.
//
// Each Go runner speaks its own CPU's ABI, except ppc64 and s390x, which
// speak sparc64's: sprig has no NetBSD ABI of their own, and they need
// none. The runner lays out every frame and struct from the descriptor it
// is given and serves copy requests through bounds-checked memory, so the
// CPU under it is irrelevant to what goes on the wire: a big-endian LP64
// machine that is not a sparc64 speaks sparc64 exactly as well as one
// that is, and the translating modes, from runners of both byte orders
// and both word sizes to servers of both, show that neither the host's
// byte order nor its word size leaks into the frames. (A 64-bit runner
// laying out frames for a 4-byte-pointer server gives its memory
// addresses below 4 GiB, which its real heap addresses are not.) Go
// programs run under qemu-user with GODEBUG=asyncpreemptoff=1: qemu's
// delivery of the preemption signal to arbitrary instructions is not
// reliable enough for the Go runtime. On i386 they also run with
// GOMAXPROCS=1: qemu-i386 keeps one descriptor table for all of a
// process's threads, so two threads setting up their TLS at once can
// swap it. A Go runner that dies inside the Go runtime anyway (a signal,
// or a runtime.throw) is the emulator's doing: ErrEmulator.
//
// The package is not a server and does not predict outcomes: it only
// builds, runs and reports what the real machine did. It imports abi, sp
// (for sp.Mode) and guest/guestapi; a Go runner is built from sprig's
// module source, found from this package's source directory or the
// working directory's module (BuildConfig.ModuleDir).
package emu
