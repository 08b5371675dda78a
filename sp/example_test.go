package sp_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// An amd64 server and an i386 client that declares its ABI
// (server-translates), talking over an in-memory pipe.
func Example() {
	ctx := context.Background()
	srv, _ := sp.NewServer(sptest.NewKernel(), sp.DefaultServerConfig(abi.MustLookup("amd64")))
	clientEnd, serverEnd := net.Pipe()
	go srv.ServeConn(serverEnd)

	cfg := sp.DefaultClientConfig(abi.MustLookup("i386"))
	cfg.Mode = sp.ModeServerTranslates
	mem := sptest.NewMemory(0x10000, 4096)
	cfg.Memory = mem
	c, err := sp.NewClient(clientEnd, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println(c.Banner())
	if err := c.HandshakeGuest(ctx); err != nil {
		fmt.Println(err)
		return
	}
	r, _ := c.Syscall(ctx, netbsd.SYS_getpid)
	fmt.Println("pid", r.Retval[0], "ppid", r.Retval[1])
	r, _ = c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/missing"), netbsd.O_RDONLY, 0)
	fmt.Println("open:", r.Err())
	// Output:
	// RUMPSP-0.4-NetBSD-7.99.34/amd64 abi=amd64 preload=69632
	// pid 2 ppid 1
	// open: ENOENT: no such file or directory
}

// Dial a server by URL, introduce the client as a new process, and run
// syscalls whose pointers are addresses in the client's Memory. On a
// 32-bit ABI, lseek's 64-bit result spans both return words: Off joins
// them.
func ExampleDial() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sprig-example-")
	defer os.RemoveAll(dir)
	url := "unix://" + filepath.Join(dir, "rump.sock")
	stop := serveAt(url, abi.MustLookup("arm"))
	defer stop()

	cfg := sp.DefaultClientConfig(abi.MustLookup("arm"))
	mem := sptest.NewMemory(0x10000, 4096)
	cfg.Memory = mem // without it, every pointer argument is EFAULT
	c, err := sp.Dial(ctx, url, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if err := c.HandshakeGuest(ctx); err != nil {
		fmt.Println(err)
		return
	}
	r, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/big"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	if err != nil || r.Err() != nil {
		fmt.Println(err, r.Err())
		return
	}
	fd := r.Int()
	r, _ = c.Syscall(ctx, netbsd.SYS_lseek, fd, int64(5)<<30, netbsd.SEEK_SET)
	fmt.Println("words:", r.Retval, "offset:", r.Off())
	r, _ = c.Syscall(ctx, netbsd.SYS_close, -1) // signed arguments need no conversion
	fmt.Println("close(-1):", r.Err())
	// Output:
	// words: [1073741824 1] offset: 5368709120
	// close(-1): EBADF: bad file descriptor
}

// A client that preloads sends what a write copies in with the write, so
// the server asks for nothing: one round trip, where NetBSD's protocol
// takes two (a COPYIN in the middle). The Trace hook shows the frames.
func ExampleClientConfig_preload() {
	ctx := context.Background()
	srv, _ := sp.NewServer(sptest.NewKernel(), sp.DefaultServerConfig(abi.MustLookup("amd64")))
	clientEnd, serverEnd := net.Pipe()
	go srv.ServeConn(serverEnd)

	cfg := sp.DefaultClientConfig(abi.MustLookup("amd64"))
	mem := sptest.NewMemory(0x10000, 4096)
	cfg.Memory = mem
	cfg.Preload = true    // used where the server's banner offers it
	var trace atomic.Bool // the hook runs on whichever goroutine reads or writes
	cfg.Trace = func(d sp.Direction, f *sp.Frame) {
		if trace.Load() {
			fmt.Println(d, f.Class, f.Type)
		}
	}
	c, err := sp.NewClient(clientEnd, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println("preloads:", c.Preloads())
	c.HandshakeGuest(ctx)
	r, _ := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/f"), netbsd.O_CREAT|netbsd.O_WRONLY, 0o644)
	fd := r.Int()
	trace.Store(true)
	msg := []byte("hello")
	r, _ = c.Syscall(ctx, netbsd.SYS_write, fd, mem.Alloc(len(msg), msg), len(msg))
	fmt.Println("wrote", r.Int())
	// Output:
	// preloads: true
	// sent REQ PRELOAD
	// sent REQ SYSCALL
	// received RESP SYSCALL
	// wrote 5
}

// serveAt runs a server with sptest's kernel at url until stop is called.
func serveAt(url string, d *abi.Descriptor) (stop func()) {
	u, err := sp.ParseURL(url)
	if err != nil {
		panic(err)
	}
	ln, err := u.Listen(context.Background())
	if err != nil {
		panic(err)
	}
	srv, err := sp.NewServer(sptest.NewKernel(), sp.DefaultServerConfig(d))
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	return func() { srv.Shutdown(context.Background()) }
}

// uptimeKernel is a Kernel of one syscall: every process answers
// getpid with its pid and 1, reads the caller's buffer for write(2) and
// refuses the rest as the real kernel does for calls it lacks.
type uptimeKernel struct{ next int }

func (k *uptimeKernel) NewProcess(ctx context.Context, c sp.ClientInfo) (sp.Process, error) {
	k.next++
	return &uptimeProc{pid: k.next + 1}, nil
}

type uptimeProc struct{ pid int }

func (p *uptimeProc) Pid() int                                    { return p.pid }
func (p *uptimeProc) Fork(context.Context) (sp.Process, error)    { return nil, netbsd.ENOSYS }
func (p *uptimeProc) Attach(sp.ClientInfo) (sp.Process, error)    { return p, nil }
func (p *uptimeProc) Exec(ctx context.Context, name string) error { return nil }
func (p *uptimeProc) Exit()                                       {}

func (p *uptimeProc) Syscall(ctx context.Context, req *sp.SyscallRequest) sp.Result {
	switch req.Num {
	case netbsd.SYS_getpid:
		return sp.Result{Retval: [2]uint64{uint64(p.pid), 1}}
	case netbsd.SYS_write:
		args, _, _ := req.Args() // fd, buf, nbyte in the client's ABI
		data, err := req.Mem.CopyIn(ctx, args[1], int(min(args[2], 4096)))
		if err != nil {
			return sp.Result{Errno: sp.ErrnoOf(err)}
		}
		fmt.Printf("server got %q\n", data)
		return sp.Result{Retval: [2]uint64{uint64(len(data))}}
	}
	return sp.Result{Errno: netbsd.ENOSYS}
}

// Serve sysproxy with a Kernel of your own: the server does the protocol
// (handshakes, frames, copy requests), the kernel decides what each
// syscall does, reaching the client's memory through req.Mem.
func ExampleNewServer() {
	ctx := context.Background()
	srv, err := sp.NewServer(&uptimeKernel{}, sp.DefaultServerConfig(abi.MustLookup("amd64")))
	if err != nil {
		fmt.Println(err)
		return
	}
	clientEnd, serverEnd := net.Pipe()
	go srv.ServeConn(serverEnd)
	defer srv.Shutdown(ctx)

	cfg := sp.DefaultClientConfig(abi.MustLookup("amd64"))
	mem := sptest.NewMemory(0x10000, 4096)
	cfg.Memory = mem
	c, _ := sp.NewClient(clientEnd, cfg)
	defer c.Close()
	c.HandshakeGuest(ctx)
	r, _ := c.Syscall(ctx, netbsd.SYS_write, 1, mem.Alloc(5, []byte("hello")), 5)
	fmt.Println("write returned", r.Int())
	r, _ = c.Syscall(ctx, netbsd.SYS_getppid)
	fmt.Println("getppid:", r.Err())
	// Output:
	// server got "hello"
	// write returned 5
	// getppid: ENOSYS: function not implemented
}

// Trace every frame a client sends and receives: the hook sees the
// decoded header and the raw body.
func ExampleClientConfig_trace() {
	ctx := context.Background()
	srv, _ := sp.NewServer(sptest.NewKernel(), sp.DefaultServerConfig(abi.MustLookup("amd64")))
	clientEnd, serverEnd := net.Pipe()
	go srv.ServeConn(serverEnd)
	defer srv.Shutdown(ctx)

	cfg := sp.DefaultClientConfig(abi.MustLookup("amd64"))
	cfg.Trace = func(d sp.Direction, f *sp.Frame) {
		fmt.Printf("%-8s %s, %d-byte body\n", d, f.Header, len(f.Body))
	}
	c, _ := sp.NewClient(clientEnd, cfg)
	defer c.Close()
	c.HandshakeGuest(ctx)
	c.Syscall(ctx, netbsd.SYS_getpid)
	// Output:
	// sent     REQ HANDSHAKE reqno=1 len=30 kind=GUEST, 6-byte body
	// received RESP HANDSHAKE reqno=1 len=28, 4-byte body
	// sent     REQ SYSCALL reqno=2 len=24 u=20, 0-byte body
	// received RESP SYSCALL reqno=2 len=48, 24-byte body
}

// SyscallValues takes each argument as its bit pattern: -1 as all ones,
// an address as it is. Nothing is boxed into an interface, so a loop of
// such calls allocates nothing for its arguments.
func ExampleClient_SyscallValues() {
	ctx := context.Background()
	d := abi.MustLookup("amd64")
	srv, _ := sp.NewServer(sptest.NewKernel(), sp.DefaultServerConfig(d))
	clientEnd, serverEnd := net.Pipe()
	go srv.ServeConn(serverEnd)
	c, err := sp.NewClient(clientEnd, sp.DefaultClientConfig(d))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if err := c.HandshakeGuest(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fd := int64(-1)
	r, _ := c.SyscallValues(ctx, netbsd.SYS_close, uint64(fd))
	fmt.Println("close(-1):", r.Err())
	// Output:
	// close(-1): EBADF: bad file descriptor
}
