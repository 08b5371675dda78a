package kern_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// A sprig server with kern behind it, and a client that writes a file and
// reads it back.
func Example() {
	ctx := context.Background()
	d := abi.MustLookup("amd64")
	k, _ := kern.New(kern.DefaultConfig())
	srv, _ := sp.NewServer(k, sp.DefaultServerConfig(d))
	dir, _ := os.MkdirTemp("", "kern")
	defer os.RemoveAll(dir)
	u, _ := sp.ParseURL("unix://" + filepath.Join(dir, "sock"))
	ln, _ := u.Listen(ctx)
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)

	mem := sptest.NewMemory(0x10000, 1<<16) // the client's address space
	cfg := sp.DefaultClientConfig(d)
	cfg.Memory = mem
	c, _ := sp.Dial(ctx, u.String(), cfg)
	defer c.Close()
	c.HandshakeGuest(ctx)

	r, _ := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/tmp/hello"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	fd, msg, buf := r.Retval[0], []byte("hello, NetBSD"), mem.Alloc(64, nil)
	c.Syscall(ctx, netbsd.SYS_write, fd, mem.Alloc(len(msg), msg), uint64(len(msg)))
	r, _ = c.Syscall(ctx, netbsd.SYS_pread, fd, buf, 64, 0)
	fmt.Printf("read %d bytes: %s\n", r.Retval[0], mem.Read(buf, int(r.Retval[0])))
	// Output: read 13 bytes: hello, NetBSD
}

// rumpfs, the root file system, refuses rename as NetBSD's does; a tmpfs
// mounted by the client renames.
func Example_mountTmpfs() {
	ctx := context.Background()
	d := abi.MustLookup("amd64")
	k, _ := kern.New(kern.DefaultConfig())
	srv, _ := sp.NewServer(k, sp.DefaultServerConfig(d))
	dir, _ := os.MkdirTemp("", "kern")
	defer os.RemoveAll(dir)
	u, _ := sp.ParseURL("unix://" + filepath.Join(dir, "sock"))
	ln, _ := u.Listen(ctx)
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)
	mem := sptest.NewMemory(0x10000, 1<<16)
	cfg := sp.DefaultClientConfig(d)
	cfg.Memory = mem
	c, _ := sp.Dial(ctx, u.String(), cfg)
	defer c.Close()
	c.HandshakeGuest(ctx)

	call := func(num netbsd.Sysno, args ...any) error { r, _ := c.Syscall(ctx, num, args...); return r.Err() }
	call(netbsd.SYS_open, mem.AllocString("/tmp/a"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	fmt.Println("rumpfs rename:", call(netbsd.SYS_rename, mem.AllocString("/tmp/a"), mem.AllocString("/tmp/b")))
	args, _ := netbsd.LayoutsFor(d).TmpfsArgs.Encode(&netbsd.TmpfsArgs{Version: 1, RootMode: 0o1777})
	call(netbsd.SYS___mount50, mem.AllocString("tmpfs"), mem.AllocString("/tmp"), 0, mem.Alloc(len(args), args), len(args))
	call(netbsd.SYS_open, mem.AllocString("/tmp/a"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	fmt.Println("tmpfs rename:", call(netbsd.SYS_rename, mem.AllocString("/tmp/a"), mem.AllocString("/tmp/b")))
	// Output:
	// rumpfs rename: EOPNOTSUPP: operation not supported
	// tmpfs rename: <nil>
}
