package sp_test

import (
	"context"
	"fmt"
	"net"

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
	mem := sp.NewFlatMemory(make([]byte, 4096), 0x10000)
	cfg.Memory = mem
	c, err := sp.NewClient(clientEnd, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Print(c.Banner())
	if err := c.HandshakeGuest(ctx); err != nil {
		fmt.Println(err)
		return
	}
	r, _ := c.Syscall(ctx, netbsd.SYS_getpid)
	fmt.Println("pid", r.Retval[0], "ppid", r.Retval[1])
	r, _ = c.Syscall(ctx, netbsd.SYS_open, mem.String("/missing"), netbsd.O_RDONLY, 0)
	fmt.Println("open:", r.Errno.String())
	// Output:
	// RUMPSP-0.4-NetBSD-9.3/amd64 abi=amd64
	// pid 2 ppid 1
	// open: ENOENT
}
