package sp

import (
	"context"
	"errors"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp/internal/xlate"
)

// Kernel is what a Server runs syscalls against: sprig's simulated NetBSD
// kernel (package kern), or a small test kernel (package sptest). The
// server owns the protocol; the kernel owns processes and syscall
// semantics.
type Kernel interface {
	// NewProcess creates the process of a client that completed a GUEST
	// handshake, with a clean fd table.
	NewProcess(ctx context.Context, c ClientInfo) (Process, error)
}

// QuickKernel is implemented by a Kernel that can tell which syscalls
// never wait for anything but the client's memory (no pipe to fill or
// drain, no lock held by another process). A Server runs such a call at
// once on the connection's reading goroutine instead of handing it to a
// worker, which saves a thread wakeup per call. When the call asks its
// client for memory (a COPYIN), it reads the answer itself; should the
// client send anything else meanwhile, reading moves to a fresh
// goroutine with that frame, so nothing can deadlock. A kernel without
// the method has every call run on a worker.
type QuickKernel interface {
	Kernel
	// Quick reports whether syscall num never blocks.
	Quick(num netbsd.Sysno) bool
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
	// when the client disconnects, when an EXEC handshake ends the
	// process's other syscalls, or when the server shuts down. req, its
	// Body and its Mem are the server's again once Syscall returns (it
	// reads the next syscall into them): a kernel must not keep them.
	Syscall(ctx context.Context, req *SyscallRequest) Result
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
	// Conn identifies the client's connection tree: a GUEST connection
	// and the connections its forks attach share one value, which no
	// other client has. Kernels use it to keep one client's signals
	// away from another's processes.
	Conn uint64
}

// SyscallRequest is one SYSCALL request as the kernel sees it.
type SyscallRequest struct {
	Num netbsd.Sysno
	// Body is the raw argument struct, in ABI's layout.
	Body []byte
	// ABI is the layout to decode Body and encode structs with.
	ABI *abi.Descriptor
	// Mem reaches the client's memory for this syscall: every access is
	// a request over the connection.
	Mem Memory

	// layouts are those of layoutsOf, when the server has them at hand
	// (it looks them up once per connection, not per call).
	layouts   *netbsd.Layouts
	layoutsOf *abi.Descriptor
}

// Args decodes the argument struct with NetBSD's slot rule for the
// request's ABI. ok is false for a syscall sprig does not describe.
// missing counts argument bytes absent from a short body, read as zero
// the way a C server reads its buffer's slack.
func (r *SyscallRequest) Args() (vals []uint64, missing int, ok bool) {
	return r.AppendArgs(nil)
}

// AppendArgs is Args that appends the values to dst, so that a kernel
// with room at hand decodes them without allocating.
func (r *SyscallRequest) AppendArgs(dst []uint64) (vals []uint64, missing int, ok bool) {
	l := r.layouts
	if l == nil || r.layoutsOf != r.ABI {
		l = netbsd.LayoutsFor(r.ABI)
	}
	a := l.Args(r.Num)
	if a == nil {
		return dst, 0, false
	}
	vals, missing = a.AppendDecode(dst, r.Body)
	return vals, missing, true
}

// Result is a syscall's outcome, what travels in rsp_sysresp: the errno
// (0 for success) and the two return words. A kernel returns one from
// Process.Syscall; Client.Syscall returns one in the client's own
// conventions.
//
// Most syscalls return one value in Retval[0]; getpid and pipe return
// two. A 64-bit result (lseek's off_t) spans both words on ABIs with a
// 32-bit register_t, in the client's memory order: use Off, which knows
// the ABI of the client that returned the Result, rather than Retval[0].
type Result struct {
	Errno  netbsd.Errno
	Retval [2]uint64

	// abi interprets Retval for Int and Off; nil means 64-bit words.
	abi *abi.Descriptor
}

// Err returns nil for a success and the errno (a netbsd.Errno, which
// errors.Is matches) for a failure.
func (r Result) Err() error {
	if r.Errno == 0 {
		return nil
	}
	return r.Errno
}

// Int returns Retval[0] as the signed register_t of the client's ABI.
func (r Result) Int() int64 {
	if r.abi == nil || r.abi.RegisterT.Size >= 8 {
		return int64(r.Retval[0])
	}
	return int64(int32(r.Retval[0]))
}

// Off returns a 64-bit result (off_t, as from lseek): Retval[0] on ABIs
// with a 64-bit register_t, both words joined in the ABI's memory order
// on 32-bit ones.
func (r Result) Off() int64 {
	if r.abi == nil {
		return int64(r.Retval[0])
	}
	return int64(JoinOff(r.abi, r.Retval))
}

// OffResult returns the successful Result of a syscall that returns the
// 64-bit value v (lseek), laid into Retval the way ABI d returns an
// off_t. Kernels use it.
func OffResult(d *abi.Descriptor, v int64) Result {
	return Result{Retval: SplitOff(d, uint64(v))}
}

// Memory is a client's address space as a sysproxy peer reaches it. The
// same interface serves both ends of the protocol:
//
//   - a Server hands the kernel one per syscall (SyscallRequest.Mem),
//     whose every access is a COPYIN, COPYINSTR, COPYOUT or ANONMMAP
//     request over the connection;
//   - a Client serves those requests from the Memory its configuration
//     names (ClientConfig.Memory), the client program's own memory.
//
// Addresses are the client's; a bad one fails with an error wrapping
// ErrFault (the kernel turns it into EFAULT). A server's Memory serves
// one syscall, one access at a time: a kernel does not call it from
// several goroutines at once.
type Memory interface {
	// CopyIn returns n bytes at addr. A server's Memory lends them: they
	// are the kernel's until its Syscall returns, and a kernel copies
	// what it keeps longer (the server reads a later syscall's COPYIN
	// answer into the same room).
	CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error)
	// CopyInStr returns the NUL-terminated string at addr without its
	// NUL. When no NUL lies within the first max bytes it returns those
	// bytes and an error wrapping ErrNameTooLong, as io.Reader returns
	// data with an error; a fault before max bytes or a NUL is ErrFault.
	// (A server's Memory cannot tell the two apart: a client answers a
	// fault with a short reply, and any reply without a NUL is
	// ErrNameTooLong, as the rump kernel's copyinstr decides.)
	CopyInStr(ctx context.Context, addr uint64, max int) (string, error)
	// CopyOut stores data at addr. It must not keep data once it
	// returns: a client reads the server's next frame into it.
	CopyOut(ctx context.Context, addr uint64, data []byte) error
	// AnonMmap maps size bytes of zeroed anonymous memory in the client
	// and returns their address. A client that cannot fails with an
	// error wrapping netbsd.ENOMEM.
	AnonMmap(ctx context.Context, size uint64) (uint64, error)
}

// CopyInAppender is an optional interface of a client's Memory that can
// copy into a buffer it is given: AppendCopyIn appends the n bytes at addr
// to dst and returns the result, as CopyIn returns them, or dst and the
// error CopyIn would return. A Client serves COPYIN requests from it into
// buffers it reuses, so the bytes of a pwrite cost no allocation. Where
// it is implemented the client calls it instead of CopyIn: a Memory that
// wraps another (to count or fail copies, say) and overrides CopyIn must
// override AppendCopyIn too, or not promote it.
type CopyInAppender interface {
	AppendCopyIn(ctx context.Context, dst []byte, addr uint64, n int) ([]byte, error)
}

var (
	// ErrFault is wrapped by Memory errors for an address the client
	// cannot access; it wraps netbsd.EFAULT, so errors.Is matches both.
	ErrFault = errFault{}
	// ErrNameTooLong is wrapped by CopyInStr errors when no NUL lies
	// within the bytes allowed; it wraps netbsd.ENAMETOOLONG.
	ErrNameTooLong = errNameTooLong{}
)

type errFault struct{}

func (errFault) Error() string { return "sp: bad address" }
func (errFault) Unwrap() error { return netbsd.EFAULT }

type errNameTooLong struct{}

func (errNameTooLong) Error() string { return "sp: string too long" }
func (errNameTooLong) Unwrap() error { return netbsd.ENAMETOOLONG }

// ErrnoOf returns the errno a Memory error stands for: the netbsd.Errno
// it wraps (EFAULT, ENAMETOOLONG, ENOMEM, EINTR...), else EFAULT; 0 for
// nil.
func ErrnoOf(err error) netbsd.Errno {
	if err == nil {
		return 0
	}
	var e netbsd.Errno
	if errors.As(err, &e) {
		return e
	}
	return netbsd.EFAULT
}

// SplitOff places a 64-bit result into retval the way ABI d returns an
// off_t: in retval[0] on 64-bit register_t, over retval[0..1] in memory
// order on 32-bit (little-endian: low word first).
func SplitOff(d *abi.Descriptor, v uint64) [2]uint64 { return xlate.SplitOff(d, v) }

// JoinOff is the inverse of SplitOff.
func JoinOff(d *abi.Descriptor, rv [2]uint64) uint64 { return xlate.JoinOff(d, rv) }
