package proxy_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/proxy"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// An i386 client that knows nothing of translation talks to an amd64
// server through the proxy: lseek's 64-bit offset crosses as two 32-bit
// words on the client's side and one 64-bit word on the server's.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "spx")
	defer os.RemoveAll(dir)
	srv, _ := sp.NewServer(sptest.NewKernel(), sp.DefaultServerConfig(abi.MustLookup("amd64")))
	sln, _ := net.Listen("unix", filepath.Join(dir, "server.sock"))
	go srv.Serve(sln)
	defer srv.Shutdown(ctx)

	cfg := proxy.DefaultConfig()
	cfg.ClientABI = abi.MustLookup("i386")
	cfg.Upstream = "unix://" + filepath.Join(dir, "server.sock")
	p, _ := proxy.New(cfg)
	pln, _ := net.Listen("unix", filepath.Join(dir, "proxy.sock"))
	go p.Serve(pln)
	defer p.Shutdown(ctx)

	ccfg := sp.DefaultClientConfig(abi.MustLookup("i386"))
	mem := sptest.NewMemory(0x8048000, 1<<16)
	ccfg.Memory = mem
	c, err := sp.Dial(ctx, "unix://"+filepath.Join(dir, "proxy.sock"), ccfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.HandshakeGuest(ctx)
	fd, _ := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/f"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	r, _ := c.Syscall(ctx, netbsd.SYS_lseek, fd.Int(), 5<<30, netbsd.SEEK_SET)
	fmt.Println(c.Banner().String())
	fmt.Printf("lseek: %d, in retval %#x %#x\n", r.Off(), r.Retval[0], r.Retval[1])
	// Output:
	// RUMPSP-0.4-NetBSD-7.99.34/amd64 abi=i386
	// lseek: 5368709120, in retval 0x40000000 0x1
}
