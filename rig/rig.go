// Package rig runs sysproxy guests of one ABI against a server of
// another, in a chosen cross-ABI mode, and collects structured scenario
// results: pass, fail (with the layer that broke and the first wrong
// field, seen from both sides) or unsupported. The server is an
// in-process sprig server with kern's kernel behind it, or any outside
// sysproxy server named by URL (a conformance run).
//
// A Rig compiles the guest once and can run many pairs; Run runs one.
package rig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/rig/internal/wasmhost"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/proxy"
)

// DefaultAddressBias is added to 64-bit wire addresses of guests.
const DefaultAddressBias = 0x5a5a_0000_0000

// Options configure a Rig.
type Options struct {
	// Guest is the WebAssembly guest to run; nil is the embedded one.
	Guest []byte
	// CacheDir is wazero's compilation cache ("" default, "-" none).
	CacheDir string
	// NewKernel makes the kernel for a server of ABI d. Nil is kern's
	// simulated NetBSD kernel.
	NewKernel func(d *abi.Descriptor) (sp.Kernel, error)
	// Logger receives server events; nil discards them.
	Logger *slog.Logger
	// Interruptible compiles the embedded guest, too, with wazero's
	// termination checks, so that it stops at its deadline even when it
	// computes without host calls; a Guest is always compiled so. The
	// checks make guest code several times slower. Without them a guest
	// stops at its next wait or socket call after its deadline (the
	// embedded guest makes them all the time), and one that never makes
	// one is abandoned: its run reports the timeout and it keeps its
	// goroutine and memory until it returns.
	Interruptible bool
}

// Rig runs guests. It is safe for concurrent use by several Runs.
type Rig struct {
	engine *wasmhost.Engine
	opts   Options
}

// New compiles the guest (or loads it from the compilation cache).
func New(ctx context.Context, o Options) (*Rig, error) {
	wasm := o.Guest
	if wasm == nil {
		wasm = guest.Scenarios
	}
	if o.NewKernel == nil {
		o.NewKernel = defaultKernel
	}
	// A guest of the user's may compute forever without a host call; the
	// embedded one waits only in host calls (its tests show it stopping
	// at its deadlines) and runs several times faster without the checks.
	e, err := wasmhost.NewEngine(ctx, wasm, wasmhost.Options{CacheDir: o.CacheDir, Interruptible: o.Guest != nil || o.Interruptible})
	if err != nil {
		return nil, err
	}
	return &Rig{engine: e, opts: o}, nil
}

// DefaultCacheDir is where compiled guests are cached unless
// Options.CacheDir says otherwise: $SPRIG_CACHE_DIR, else sprig/wazero
// under the user cache directory.
func DefaultCacheDir() string { return wasmhost.DefaultCacheDir() }

// Close releases the compiled guest.
func (r *Rig) Close(ctx context.Context) error { return r.engine.Close(ctx) }

// CacheDir returns the compilation cache in use ("" when none).
func (r *Rig) CacheDir() string { return r.engine.CacheDir }

// Pair is one run's setup.
type Pair struct {
	// Client is the guest's ABI.
	Client *abi.Descriptor
	// Server is the server's ABI: the in-process server's, or what an
	// outside server speaks (nil: from its banner, see ServerABI).
	Server *abi.Descriptor
	// URL, when set, names an outside server to run against instead of
	// an in-process one.
	URL string
	// Destructive runs the scenarios that can harm a real server (the
	// manifest's Destructive ones) against an outside server too; they
	// always run in-process.
	Destructive bool
	// Mode says how client and server bridge their ABIs.
	Mode    Mode
	Version sp.Version // zero: 0.4
	// Scenarios to run; empty runs all.
	Scenarios []string
	// Timeout bounds each scenario; zero means 10 s.
	Timeout time.Duration
	// AddressBias for 64-bit wire pointers; zero means DefaultAddressBias.
	AddressBias uint64
	// Trace, when set, sees every frame the server sends and receives.
	Trace func(c *sp.ConnInfo, d sp.Direction, f *sp.Frame)
	// Program, when set, is the client instead of the embedded wasm
	// guest: a native program on a real or emulated CPU, judged and
	// explained like the guest.
	Program Program
}

// Program is a client other than the embedded wasm guest, such as one of
// package emu's builds for a real machine. It speaks p.Client's ABI in
// p.Mode.Client() and runs p.Scenarios (empty: its default set), each
// within p.Timeout.
type Program interface {
	// Run runs the program against the server at url and returns what
	// it reported, one result per scenario. A crashed or failing
	// scenario is a result; an error means the program could not run or
	// what it said was not results, and leaves the scenarios it did not
	// report failed. A program that outlives ctx returns ctx's error;
	// one that the environment failed (an emulator's fault) returns an
	// error wrapping ErrEnvironment. Both leave errors, not failures.
	Run(ctx context.Context, url string, p Pair) ([]guestapi.Result, error)
	// String names the program and what runs it, for reports
	// ("C client i386 (i686-linux-gnu-gcc 12.2.0, qemu-i386 7.2.19)").
	String() string
}

// Run runs the guest of p.Client against a fresh in-process server of
// p.Server, or against the outside server at p.URL.
func (r *Rig) Run(ctx context.Context, p Pair) (*Report, error) {
	if p.Client == nil {
		return nil, errors.New("rig: pair needs a client ABI")
	}
	if p.Version == (sp.Version{}) {
		p.Version = sp.Version04
	}
	if p.URL != "" {
		return r.runOutside(ctx, p)
	}
	if p.Server == nil {
		return nil, errors.New("rig: pair needs a server ABI")
	}
	k, err := r.opts.NewKernel(p.Server)
	if err != nil {
		return nil, err
	}
	scfg := sp.DefaultServerConfig(p.Server)
	scfg.Version = p.Version
	if p.Mode == ModeProxy {
		// Behind a proxy the server is a C server: the proxy, not the
		// server, must bridge the ABIs.
		scfg.HideABI, scfg.IgnoreDeclarations = true, true
	}
	if kk, ok := k.(*kern.Kernel); ok {
		scfg.OSRelease = kk.Config().OSRelease // banner and kern.osrelease agree
	}
	scfg.Logger = r.opts.Logger
	obs := &observer{}
	scfg.Trace = func(c *sp.ConnInfo, d sp.Direction, f *sp.Frame) {
		obs.frame(c, d, f)
		if p.Trace != nil {
			p.Trace(c, d, f)
		}
	}
	srv, err := sp.NewServer(k, scfg)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sprig-rig-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	u, err := sp.ParseURL("unix://" + filepath.Join(dir, "s"))
	if err != nil {
		return nil, err
	}
	ln, err := u.Listen(ctx)
	if err != nil {
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-served
	}()
	url := u.String()
	if p.Mode == ModeProxy {
		pu, stop, err := startProxy(ctx, p, url, dir)
		if err != nil {
			return nil, err
		}
		defer stop()
		url = pu
	}
	rep, err := r.runClient(ctx, p, url, obs)
	if kk, ok := k.(*kern.Kernel); ok && err == nil {
		rep.KernelExtensions = kk.Config().Extensions.Names()
	}
	return rep, err
}

// runClient runs p's client, the guest or p.Program, against url.
func (r *Rig) runClient(ctx context.Context, p Pair, url string, obs *observer) (*Report, error) {
	if p.Program != nil {
		return runProgram(ctx, p, url, obs)
	}
	return r.runGuest(ctx, p, url, obs)
}

// startProxy runs a translating proxy in front of the server at upstream
// for clients of p.Client, listening in dir, and returns its URL and how
// to stop it.
func startProxy(ctx context.Context, p Pair, upstream, dir string) (string, func(), error) {
	pcfg := proxy.DefaultConfig()
	pcfg.ClientABI, pcfg.ServerABI, pcfg.Upstream = p.Client, p.Server, upstream
	px, err := proxy.New(pcfg)
	if err != nil {
		return "", nil, err
	}
	u, err := sp.ParseURL("unix://" + filepath.Join(dir, "proxy"))
	if err != nil {
		return "", nil, err
	}
	ln, err := u.Listen(ctx)
	if err != nil {
		return "", nil, err
	}
	served := make(chan error, 1)
	go func() { served <- px.Serve(ln) }()
	return u.String(), func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		px.Shutdown(sctx)
		<-served
	}, nil
}

// runOutside runs the guest against the server at p.URL: the server's
// ABI comes from p.Server or its banner, and destructive scenarios are
// left out unless p.Destructive.
func (r *Rig) runOutside(ctx context.Context, p Pair) (*Report, error) {
	if p.Server == nil {
		d, _, err := ServerABI(ctx, p.URL)
		if err != nil {
			return nil, err
		}
		p.Server = d
	}
	if len(p.Scenarios) == 0 {
		p.Scenarios = DefaultScenarios(!p.Destructive)
	}
	url := p.URL
	if p.Mode == ModeProxy {
		dir, err := os.MkdirTemp("", "sprig-rig-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		pu, stop, err := startProxy(ctx, p, p.URL, dir)
		if err != nil {
			return nil, err
		}
		defer stop()
		url = pu
	}
	return r.runClient(ctx, p, url, nil)
}

// DefaultScenarios returns the scenarios a run selects when it names
// none: every selectable one, or, with safe, every one that cannot harm a
// real server.
func DefaultScenarios(safe bool) []string {
	var out []string
	for _, s := range guestapi.Manifest() {
		if !s.ChildOnly && !(safe && s.Destructive) {
			out = append(out, s.Name)
		}
	}
	return out
}

// ErrAmbiguousServer is returned by ServerABI for a server whose banner
// names a machine word several ABIs share (evbarm64, evbmips) and no
// ABI: the caller must say which.
var ErrAmbiguousServer = errors.New("the banner does not say which ABI the server speaks")

// ServerABI reads the banner of the server at url and returns the ABI it
// implies: sprig's " abi=NAME" extension, else the only ABI with the
// banner's machine word. A word that several ABIs share is an error
// wrapping ErrAmbiguousServer that lists them.
func ServerABI(ctx context.Context, url string) (*abi.Descriptor, sp.Banner, error) {
	u, err := sp.ParseURL(url)
	if err != nil {
		return nil, sp.Banner{}, err
	}
	conn, err := u.Dial(ctx)
	if err != nil {
		return nil, sp.Banner{}, fmt.Errorf("rig: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	b, err := sp.ReadBanner(conn)
	if err != nil {
		return nil, b, fmt.Errorf("rig: %s: %w", url, err)
	}
	d, err := b.ServerABI()
	if err != nil {
		if b.ABI == "" && len(abi.ByMachine(b.Machine)) > 1 {
			return nil, b, fmt.Errorf("rig: %s: %w (machine %q could be %s): name the server ABI", url, ErrAmbiguousServer, b.Machine, machineNames(b.Machine))
		}
		return nil, b, fmt.Errorf("rig: %s: %w", url, err)
	}
	return d, b, nil
}

func machineNames(word string) string {
	var names []string
	for _, d := range abi.ByMachine(word) {
		names = append(names, d.Name)
	}
	return strings.Join(names, " or ")
}

// timeout is each scenario's deadline.
func (p *Pair) timeout() time.Duration {
	if p.Timeout == 0 {
		return DefaultTimeout
	}
	return p.Timeout
}

// ErrEnvironment marks a Program's error as the environment's doing, not
// the program's: the scenarios it did not report are errors.
var ErrEnvironment = errors.New("the environment failed the program")

// DefaultTimeout is a scenario's deadline when Pair.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// newReport starts the report of a run of p.
func (p *Pair) newReport() *Report {
	return &Report{SchemaVersion: RunSchemaVersion, Client: p.Client.Name, Server: p.Server.Name,
		Mode: p.Mode.String(), Version: p.Version.String(), URL: p.URL}
}

// runGuest runs the guest of p against the server at url; obs, when not
// nil, is what the in-process server saw, to explain failures.
func (r *Rig) runGuest(ctx context.Context, p Pair, url string, obs *observer) (*Report, error) {
	timeout := p.timeout()
	bias := p.AddressBias
	if bias == 0 {
		bias = DefaultAddressBias
	}
	cfg := &guestapi.Config{
		Role: guestapi.RoleMain, URL: url, ABI: p.Client, Mode: p.Mode.Client().String(),
		Version: p.Version.String(), Scenarios: p.Scenarios, AddressBias: bias,
		TimeoutMillis: int(timeout / time.Millisecond),
	}
	if p.Mode == ModeClientTranslates {
		cfg.ServerABI = p.Server
	}
	rep := p.newReport()
	var mu sync.Mutex
	var flat []Result
	run := &wasmhost.Run{
		Engine: r.engine,
		Dial:   dialURL,
		Report: func(res guestapi.Result) {
			x := resultOf(res)
			if obs != nil {
				x.Explanation = explain(p, obs, res)
			}
			mu.Lock()
			flat = append(flat, x)
			mu.Unlock()
		},
	}
	// The whole guest gets every scenario's timeout plus slack; a guest
	// that hangs past it is stopped and its missing scenarios fail.
	n := len(p.Scenarios)
	if n == 0 {
		n = 32
	}
	gctx, cancel := context.WithTimeout(ctx, time.Duration(n)*timeout+2*time.Second)
	defer cancel()
	start := time.Now()
	ex := run.Instance(gctx, cfg)
	rep.Elapsed = time.Since(start)
	rep.Millis = float64(rep.Elapsed.Microseconds()) / 1000
	rep.GuestExit = ex.Code
	mu.Lock()
	rep.Results = flat
	mu.Unlock()
	want := p.Scenarios
	if len(want) == 0 {
		want = DefaultScenarios(false)
	}
	if ex.Err != nil || (ex.Code != 0 && ex.Code != 1) {
		rep.GuestStderr = strings.TrimSpace(ex.Stderr)
		why := fmt.Sprintf("guest ended with exit code %d", ex.Code)
		if ex.Err != nil {
			why = ex.Err.Error()
		}
		failMissing(rep, want, why, endingOf(ctx, gctx))
	}
	rep.settle()
	return rep, nil
}

// ending is how a client that did not end normally ended.
type ending uint8

const (
	endedOddly       ending = iota // trapped, crashed, exited with a strange code: its doing
	endedLate                      // outlived its deadline
	endedCancelled                 // its run was cancelled
	endedEnvironment               // its environment failed it (an emulator's fault)
)

// endingOf classifies a client's abnormal end: cancelled when the run's
// ctx ended, late when the client's own deadline did.
func endingOf(ctx, clientCtx context.Context) ending {
	switch {
	case ctx.Err() != nil:
		return endedCancelled
	case clientCtx.Err() != nil:
		return endedLate
	}
	return endedOddly
}

// failMissing records, for a client that hung, trapped or died, a result
// for every requested scenario it never reported, and one for the client
// itself: a broken client is never a silent gap. Only one that ended
// oddly leaves failures; the other endings are not the client's doing
// and leave errors.
func failMissing(rep *Report, want []string, why string, end ending) {
	status, layer := guestapi.Error, guestapi.LayerGuest
	switch end {
	case endedOddly:
		status = guestapi.Fail
	case endedCancelled:
		layer, why = "", "the run was cancelled"
	case endedLate:
		layer = guestapi.LayerTimeout
	}
	seen := map[string]bool{}
	for _, r := range rep.Results {
		seen[r.Scenario] = true
	}
	for _, n := range want {
		if !seen[n] {
			rep.Results = append(rep.Results, Result{Scenario: n, Status: status, Layer: layer, Detail: "no result: " + why})
		}
	}
	rep.Results = append(rep.Results, Result{Scenario: GuestScenario, Status: status, Layer: layer, Detail: why})
}

// GuestScenario is the name under which a run reports a guest that did
// not end normally.
const GuestScenario = "(guest)"

func dialURL(ctx context.Context, url string) (wasmhost.Conn, error) {
	u, err := sp.ParseURL(url)
	if err != nil {
		return nil, err
	}
	c, err := u.Dial(ctx)
	if err != nil {
		return nil, err
	}
	return c.(interface {
		wasmhost.Conn
		net.Conn
	}), nil
}

// defaultKernel is kern's simulated NetBSD kernel for a server of ABI d,
// with sprig's kill and mmap extensions on, so the kill-raise and
// mmap-anon scenarios can exercise RAISE and ANONMMAP.
func defaultKernel(d *abi.Descriptor) (sp.Kernel, error) {
	cfg := kern.DefaultConfig()
	cfg.ABI = d
	cfg.Extensions = kern.ExtAll
	return kern.New(cfg)
}
