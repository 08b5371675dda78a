// Command native is sprig's scenario suite (package guest/scenario) as an
// ordinary program for the machine it is built for: the same scenarios
// the WebAssembly guest runs, speaking sysproxy over a real socket, with
// its memory in its own address space. Cross-compiled for another
// GOARCH and run under qemu-user, it shows that sprig's client code
// assumes nothing about the CPU it runs on (byte order, word size).
//
//	native --url unix:///tmp/rump.sock --abi mips [--mode native|server-translates|client-translates]
//	       [--server-abi ABI] [--version 0.1|0.4] [--scenario NAME,...] [--timeout-ms N]
//	       [--address-bias N] [--list]
//
// It prints one JSON line per scenario (guestapi.Result) on standard
// output and exits 0 when none failed, 1 when some did, 2 for a usage
// error and 3 when it could not run.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/guest/scenario"
	"github.com/rumpsprig/sprig/internal/flatmem"
	"github.com/rumpsprig/sprig/sp"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("native", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the server: unix://PATH or tcp://A.B.C.D:PORT")
	abiName := fs.String("abi", "", "the ABI the client speaks: a name or a JSON descriptor file")
	mode := fs.String("mode", "native", "native, server-translates or client-translates")
	serverABI := fs.String("server-abi", "", "the server's ABI, for client-translates")
	version := fs.String("version", "", "protocol era, 0.1 or 0.4 (default: the banner's)")
	names := fs.String("scenario", "", "comma-separated scenarios to run (default: all)")
	timeout := fs.Int("timeout-ms", 10000, "each scenario's deadline")
	bias := fs.Uint64("address-bias", 0, "added to addresses on a 64-bit wire")
	list := fs.Bool("list", false, "print the scenario names and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *list {
		for _, n := range scenario.Names() {
			fmt.Fprintln(stdout, n)
		}
		return 0
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "native: "+format+"\n", a...)
		return 2
	}
	if *url == "" || *abiName == "" {
		return usage("--url and --abi are required")
	}
	d, err := abi.Resolve(*abiName)
	if err != nil {
		return usage("%v", err)
	}
	if _, err := sp.ParseMode(*mode); err != nil {
		return usage("%v", err)
	}
	cfg := &guestapi.Config{Role: guestapi.RoleMain, URL: *url, ABI: d, Mode: *mode, Version: *version,
		AddressBias: *bias, TimeoutMillis: *timeout}
	if *serverABI != "" {
		if cfg.ServerABI, err = abi.Resolve(*serverABI); err != nil {
			return usage("%v", err)
		}
	}
	if *names != "" {
		cfg.Scenarios = strings.Split(*names, ",")
	}
	// Laying out frames for a server with 4-byte pointers, a 64-bit
	// host's heap addresses do not fit them (the banner decides when no
	// --server-abi is given, so that may be such a server too).
	narrow := *mode == sp.ModeClientTranslates.String() && (cfg.ServerABI == nil || cfg.ServerABI.Pointer.Size < 8)
	return scenario.Main(cfg, &env{out: json.NewEncoder(stdout), narrowWire: narrow})
}

// env is the scenario environment of a native program: real sockets,
// memory in the Go heap at its real addresses, JSON lines on standard
// output, and fork children as goroutines with memories of their own.
type env struct {
	mu  sync.Mutex
	out *json.Encoder
	// narrowWire: the wire may have 4-byte pointers although the host's
	// are 8 bytes; memory whose real address does not fit them gets an
	// address of its own below 4 GiB.
	narrowWire bool
	low        atomic.Uint64 // low memories handed out
}

// Low addresses are handed out from lowBase in lowSlot steps, wrapping
// after lowSlots: a 1 MiB scenario memory each, distinct among the few
// that live at once.
const (
	lowBase  = 0x1000_0000
	lowSlot  = 1 << 20
	lowSlots = 256
)

func (e *env) Dial(ctx context.Context, url string) (io.ReadWriteCloser, error) {
	u, err := sp.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return u.Dial(ctx)
}

func (e *env) NewMemory(size int) *flatmem.Memory {
	b := make([]byte, size)
	base := uint64(uintptr(unsafe.Pointer(&b[0])))
	if e.narrowWire && base+uint64(size) > 1<<32 && size <= lowSlot {
		// The memory is served through flatmem, which checks every
		// address against its own range, so it may as well be at an
		// address the wire can carry.
		base = lowBase + (e.low.Add(1)%lowSlots)*lowSlot
	}
	return flatmem.New(b, base)
}

func (e *env) Report(r guestapi.Result) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.Encode(r)
}

func (e *env) Spawn(ctx context.Context, cfg *guestapi.Config) (scenario.Child, error) {
	c := &child{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.code = scenario.Main(cfg, e)
	}()
	return c, nil
}

type child struct {
	done chan struct{}
	code int
}

func (c *child) Wait(ctx context.Context) (int, error) {
	select {
	case <-c.done:
		return c.code, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
