package sp

import (
	"context"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// Kernel is what a Server runs syscalls against: sprig's simulated NetBSD
// kernel (package kern), or a small test kernel. The server owns the
// protocol; the kernel owns processes and syscall semantics.
type Kernel interface {
	// NewProcess creates the process of a client that completed a GUEST
	// handshake, with a clean fd table.
	NewProcess(ctx context.Context, c ClientInfo) (Process, error)
}

// Process is one client process inside a Kernel.
type Process interface {
	// Pid returns the process id.
	Pid() int
	// Fork creates a child for PREFORK with a copy of the fd table. The
	// child has no client until a FORK handshake claims it (Attach).
	Fork(ctx context.Context) (Process, error)
	// Attach gives a forked child its own client connection and returns
	// the process that serves it from now on. A kernel may return a new
	// one: the C server forks the preforked process once more, sharing
	// its fd table, and drops the first, so the claimed process has a
	// fresh pid and, its parent gone, ppid 1. On error the server drops
	// the connection; the forked process is the server's to Exit.
	Attach(c ClientInfo) (Process, error)
	// Exec renames the process and closes its close-on-exec fds.
	Exec(ctx context.Context, name string) error
	// Syscall runs one syscall. It must honour ctx: the server cancels it
	// when the client disconnects or the server shuts down.
	Syscall(ctx context.Context, req *SyscallRequest) SyscallResult
	// Exit ends the process: its fds close. The server calls it once,
	// when the client disconnects or a pending fork is dropped.
	Exit()
}

// ClientInfo describes the client behind a process.
type ClientInfo struct {
	// Name is the program name from the GUEST or EXEC handshake (empty
	// in protocol 0.1).
	Name string
	// ABI is the ABI the server assumes for the client: its declared
	// ABI when it declared one, else the configured assumption, else the
	// server's own.
	ABI *abi.Descriptor
	// Declared reports whether the client declared its ABI.
	Declared bool
	// Version is the protocol era spoken.
	Version Version
	// Signal delivers a signal to the client (a RAISE request).
	Signal func(sig int32) error
}

// SyscallRequest is one SYSCALL request as the kernel sees it.
type SyscallRequest struct {
	Num netbsd.Sysno
	// Body is the raw argument struct, in ABI's layout.
	Body []byte
	// ABI is the layout to decode Body and encode structs with.
	ABI *abi.Descriptor
	// Mem reaches the client's memory for this syscall.
	Mem ClientMemory
}

// Args decodes the argument struct with NetBSD's slot rule for the
// request's ABI. ok is false for a syscall sprig does not describe.
// missing counts argument bytes absent from a short body, read as zero
// the way a C server reads its buffer's slack.
func (r *SyscallRequest) Args() (vals []uint64, missing int, ok bool) {
	a := netbsd.LayoutsFor(r.ABI).Args(r.Num)
	if a == nil {
		return nil, 0, false
	}
	vals, missing = a.Decode(r.Body)
	return vals, missing, true
}

// SyscallResult is what goes back in rsp_sysresp.
type SyscallResult struct {
	Errno  netbsd.Errno
	Retval [2]uint64
}

// ClientMemory is the kernel's handle on a client's address space for one
// syscall: every access is a request over the connection.
type ClientMemory interface {
	// CopyIn reads n bytes at addr (a COPYIN round trip).
	CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error)
	// CopyInStr reads a NUL-terminated string of at most max bytes,
	// NUL included (COPYINSTR). The result excludes the NUL.
	CopyInStr(ctx context.Context, addr uint64, max int) (string, error)
	// CopyOut writes data at addr (COPYOUT, no reply).
	CopyOut(ctx context.Context, addr uint64, data []byte) error
	// AnonMmap asks the client to map size bytes of anonymous memory and
	// returns its address (ANONMMAP).
	AnonMmap(ctx context.Context, size uint64) (uint64, error)
}

// SplitOff places a 64-bit result into retval the way ABI d returns an
// off_t: in retval[0] on 64-bit register_t, over retval[0..1] in memory
// order on 32-bit (little-endian: low word first).
func SplitOff(d *abi.Descriptor, v uint64) [2]uint64 {
	if d.RegisterT.Size >= 8 {
		return [2]uint64{v, 0}
	}
	lo, hi := v&0xffffffff, v>>32
	if d.BigEndian() {
		return [2]uint64{hi, lo}
	}
	return [2]uint64{lo, hi}
}

// JoinOff is the inverse of SplitOff.
func JoinOff(d *abi.Descriptor, rv [2]uint64) uint64 {
	if d.RegisterT.Size >= 8 {
		return rv[0]
	}
	if d.BigEndian() {
		return rv[0]<<32 | rv[1]&0xffffffff
	}
	return rv[1]<<32 | rv[0]&0xffffffff
}
