// Package bench measures sprig's sysproxy round trips against their floor:
// the same bytes between two processes over a unix socket with nothing but
// blocking read(2) and write(2) on either side, as a C ping-pong has, and
// beside it Go's floor, the same with both ends using net.Conn. It
// times sprig's Go client (sp.Client) and the WebAssembly guest (under
// wazero, as the rig runs it), and where the server offers it the Go
// client preloading what syscalls copy in (sp.ClientConfig.Preload),
// against a sprig server in a process of its own (or any sysproxy server
// named by URL): the null syscall, copies of 64 bytes, pread and pwrite,
// many clients at once and bulk transfers, each next to the floor of its
// own bytes, measured in the same run, interleaved. It is what `sprig bench`
// runs and what this package's go test benchmarks report.
//
// It is not a load generator for capacity planning, and its absolute
// numbers belong to the machine they were taken on: compare ratios.
//
// The floor's second process, and the server when one is started, are
// the running program re-executed (a Spawner): a program that uses this
// package hands RunChild the process's role before it does anything
// else (sprig does so in an init func), which works for an installed
// binary and a test binary alike.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/guest/scenario"
	"github.com/rumpsprig/sprig/internal/flatmem"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/rig/internal/wasmhost"
	"github.com/rumpsprig/sprig/sp"
)

// EnvChild names the role a re-executed program plays (RolePeer,
// RoleServe); unset in the program the user started.
const EnvChild = "SPRIG_BENCH_CHILD"

// Roles of a re-executed program.
const (
	// RolePeer: the floor's peer; the program calls RunPeer.
	RolePeer = "peer"
	// RoleServe: a sprig server; the arguments are `sprig serve`'s
	// ("serve --url URL [--profile DIR]"), which the program runs.
	RoleServe = "serve"
)

// Spawner returns the command that runs the program as role with args.
type Spawner func(role string, args ...string) (*exec.Cmd, error)

// Self is the Spawner that re-executes the running program
// (os.Executable) with EnvChild set to the role.
func Self(role string, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: finding this program: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), EnvChild+"="+role)
	return cmd, nil
}

// Config configures a bench session. Start from DefaultConfig.
type Config struct {
	// Spawn starts the floor's peer and, without Server, the server.
	Spawn Spawner
	// Server is an outside sysproxy server's URL; "" starts a sprig
	// server (RoleServe) in a process of its own.
	Server string
	// ServerABI is the outside server's ABI when its banner cannot say;
	// nil: from the banner.
	ServerABI *abi.Descriptor
	// Calls is how many syscalls each measurement makes (an operation of
	// s syscalls runs Calls/s times), capped at Calls×4 KiB moved.
	Calls int
	// Runs is how many times each measurement is repeated; figures are
	// medians of the runs.
	Runs int
	// Clients are the numbers of concurrent clients to measure.
	Clients []int
	// Only restricts the run to these operations and groups (names as in
	// scenario.BenchOps, "clients", "bulk"); empty runs everything.
	Only []string
	// ProfileDir, when set, makes the started server write CPU and
	// allocation profiles there when it exits.
	ProfileDir string
	// CacheDir is wazero's compilation cache ("" default, "-" none).
	CacheDir string
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration `sprig bench` starts from.
func DefaultConfig() Config {
	return Config{Spawn: Self, Calls: 2000, Runs: 5, Clients: []int{1, 16, 64, 256}}
}

func (c *Config) verify() error {
	bad := func(field, why string) error { return fmt.Errorf("bench: config: %s %s", field, why) }
	switch {
	case c.Spawn == nil:
		return bad("Spawn", "is nil")
	case c.Calls < 10:
		return bad("Calls", fmt.Sprintf("is %d; want at least 10", c.Calls))
	case c.Runs < 1:
		return bad("Runs", fmt.Sprintf("is %d; want at least 1", c.Runs))
	case c.ProfileDir != "" && c.Server != "":
		return bad("ProfileDir", "profiles the server bench starts; with Server set there is none")
	}
	for _, n := range c.Clients {
		if n < 1 || n > 1024 {
			return bad("Clients", fmt.Sprintf("holds %d; want 1 to 1024", n))
		}
	}
	for _, o := range c.Only {
		if _, ok := scenario.LookupBenchOp(o); !ok && o != GroupClients && o != GroupBulk {
			return bad("Only", fmt.Sprintf("names %q, no operation or group", o))
		}
	}
	return nil
}

// Groups besides the operations that Config.Only can name.
const (
	GroupClients = "clients"
	GroupBulk    = "bulk"
)

// Session is what the measurements share: the peer and server processes,
// the server's URL and ABI, a native client with its workload, a probe
// client that records each operation's exchange, and the compiled guest.
type Session struct {
	cfg    Config
	log    *slog.Logger
	dir    string
	url    string
	banner sp.Banner
	abi    *abi.Descriptor

	peer     *child
	peerPath string
	server   *child

	mu      sync.Mutex
	native  *client
	preload *client // the Preload variant's
	probe   *client
	rec     *recorder
	scripts map[string]Script
	floors  map[floorKey]*floorConn
	engine  *wasmhost.Engine

	// testHookTurn, when set, learns of each timed turn of MeasureOps as
	// it ends: the block, the operation and the variant.
	testHookTurn func(block int, op string, v Variant)
}

// Start starts the peer and (without cfg.Server) the server.
func Start(ctx context.Context, cfg Config) (*Session, error) {
	if err := cfg.verify(); err != nil {
		return nil, err
	}
	s := &Session{cfg: cfg, log: cfg.Logger, scripts: map[string]Script{}, floors: map[floorKey]*floorConn{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	// A short directory: unix socket paths are limited to ~104 bytes.
	if s.dir, err = os.MkdirTemp("", "sprig-bench-"); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	if err := s.startPeer(); err != nil {
		return nil, err
	}
	s.url = cfg.Server
	if s.url == "" {
		if err := s.startServer(ctx); err != nil {
			return nil, err
		}
	}
	d, b, err := rig.ServerABI(ctx, s.url)
	switch {
	case cfg.ServerABI != nil:
		d = cfg.ServerABI
	case err != nil:
		return nil, err
	}
	s.banner, s.abi = b, d
	ok = true
	return s, nil
}

// Preloads reports whether the server offers preloaded copyin to the
// session's clients (the Preload variant): its banner offers it and
// names the ABI they speak.
func (s *Session) Preloads() bool { return s.banner.Preload > 0 && s.banner.ABI == s.abi.Name }

// Banner returns the server's banner.
func (s *Session) Banner() sp.Banner { return s.banner }

// URL returns the server's URL.
func (s *Session) URL() string { return s.url }

// ABI returns the ABI the clients speak: the server's.
func (s *Session) ABI() *abi.Descriptor { return s.abi }

// Close stops everything Start started; the server writes its profiles.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, f := range s.floors {
		f.Close()
	}
	clear(s.floors)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.closeClients(ctx)
	if s.engine != nil {
		s.engine.Close(ctx)
		s.engine = nil
	}
	if s.server != nil {
		errs = append(errs, s.server.stop())
		s.server = nil
	}
	if s.peer != nil {
		s.peer.stop()
		s.peer = nil
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
	return errors.Join(errs...)
}

// child is a process the session started.
type child struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *tailBuffer
	done   chan error
}

func (s *Session) spawn(name, role string, extra []*os.File, args ...string) (*child, error) {
	cmd, err := s.cfg.Spawn(role, args...)
	if err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd, stderr: &tailBuffer{max: 16 << 10}, done: make(chan error, 1)}
	cmd.Stdout = io.Discard
	cmd.Stderr = c.stderr
	cmd.ExtraFiles = extra
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: starting the %s: %w", name, err)
	}
	go func() { c.done <- cmd.Wait() }()
	return c, nil
}

// stop asks the child to end (SIGINT: a server drains and writes its
// profiles), then kills it if it lingers.
func (c *child) stop() error {
	c.stdin.Close()
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-c.done:
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && !ee.Exited()) {
			return fmt.Errorf("bench: the %s ended with %v: %s", c.name, err, c.stderr.String())
		}
		return nil
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("bench: the %s did not stop within 10 s; killed", c.name)
	}
}

func (s *Session) startPeer() error {
	s.peerPath = filepath.Join(s.dir, "floor.sock")
	ln, err := net.Listen("unix", s.peerPath)
	if err != nil {
		return fmt.Errorf("bench: floor: %w", err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // the socket file stays for the peer's copy; RemoveAll takes it
	defer ul.Close()
	f, err := ul.File()
	if err != nil {
		return err
	}
	defer f.Close()
	s.peer, err = s.spawn("floor peer", RolePeer, []*os.File{f})
	return err
}

func (s *Session) startServer(ctx context.Context) error {
	s.url = "unix://" + filepath.Join(s.dir, "sprig.sock")
	args := []string{"serve", "--url", s.url}
	if s.cfg.ProfileDir != "" {
		args = append(args, "--profile", s.cfg.ProfileDir)
	}
	var err error
	if s.server, err = s.spawn("server", RoleServe, nil, args...); err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, _, err := rig.ServerABI(cctx, s.url)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.server.done:
			s.server.done <- werr
			return fmt.Errorf("bench: the server exited (%v): %s", werr, s.server.stderr.String())
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("bench: the server at %s did not answer: %v", s.url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// client is a native sp.Client with its memory and, once asked for, a
// workload.
type client struct {
	c   *sp.Client
	mem *flatmem.Memory
	w   *scenario.Workload
}

func (c *client) close(ctx context.Context) {
	if c.w != nil {
		c.w.Close(ctx)
	}
	c.c.Close()
}

// nativeEnv is the scenario.Env of the native client: sockets and memory
// of this process.
type nativeEnv struct{}

func (nativeEnv) Dial(ctx context.Context, url string) (io.ReadWriteCloser, error) {
	u, err := sp.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return u.Dial(ctx)
}

// NewMemory maps the client's memory at a fixed address; the server only
// needs the addresses to be the memory's own.
func (nativeEnv) NewMemory(size int) *flatmem.Memory {
	return flatmem.New(make([]byte, size), 0x7f00_0000_0000)
}

func (nativeEnv) Report(guestapi.Result) error { return nil }

func (nativeEnv) Spawn(context.Context, *guestapi.Config) (scenario.Child, error) {
	return nil, errors.New("bench: the native client starts no children")
}

// clientConfig is the configuration native and wasm clients connect with.
func (s *Session) clientConfig() *guestapi.Config {
	return &guestapi.Config{Role: guestapi.RoleBench, URL: s.url, ABI: s.abi, Mode: sp.ModeNative.String(),
		AddressBias: rig.DefaultAddressBias, TimeoutMillis: 120_000}
}

// dialClient connects a native client that has made its GUEST handshake,
// retrying a server that refuses (a full server, a moment after other
// clients left).
func (s *Session) dialClient(ctx context.Context, trace func(sp.Direction, *sp.Frame), preload bool) (*client, error) {
	cfg := s.clientConfig()
	if preload {
		cfg.Bench = &guestapi.BenchConfig{Preload: true}
	}
	var err error
	for try := 0; try < 100; try++ {
		var c *sp.Client
		var mem *flatmem.Memory
		c, mem, err = scenario.BenchClient(ctx, cfg, nativeEnv{}, trace)
		if err == nil {
			return &client{c: c, mem: mem}, nil
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("bench: connecting to %s: %w", s.url, err)
}
