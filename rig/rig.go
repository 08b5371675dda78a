// Package rig runs sysproxy guests of one ABI against an in-process sprig
// server of another, in a chosen cross-ABI mode, and collects structured
// scenario results: pass, fail (with the layer that broke and the first
// wrong field, seen from both sides) or unsupported.
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
	e, err := wasmhost.NewEngine(ctx, wasm, wasmhost.Options{CacheDir: o.CacheDir})
	if err != nil {
		return nil, err
	}
	return &Rig{engine: e, opts: o}, nil
}

// Close releases the compiled guest.
func (r *Rig) Close(ctx context.Context) error { return r.engine.Close(ctx) }

// CacheDir returns the compilation cache in use ("" when none).
func (r *Rig) CacheDir() string { return r.engine.CacheDir }

// Pair is one run's setup.
type Pair struct {
	Client, Server *abi.Descriptor
	Mode           sp.Mode
	Version        sp.Version // zero: 0.4
	// Scenarios to run; empty runs all.
	Scenarios []string
	// Timeout bounds each scenario; zero means 10 s.
	Timeout time.Duration
	// AddressBias for 64-bit wire pointers; zero means DefaultAddressBias.
	AddressBias uint64
	// Trace, when set, sees every frame the server sends and receives.
	Trace func(c *sp.ConnInfo, d sp.Direction, f *sp.Frame)
}

// Result is one scenario's outcome in a run.
type Result struct {
	guestapi.Result
	// Explanation adds the server's side to a data or decoding failure.
	Explanation string `json:"explanation,omitempty"`
}

// Report is the outcome of one pair.
type Report struct {
	Client  string        `json:"client"`
	Server  string        `json:"server"`
	Mode    string        `json:"mode"`
	Version string        `json:"version"`
	Results []Result      `json:"results"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// GuestExit and GuestStderr describe how the guest ended when it
	// did not end cleanly.
	GuestExit   int    `json:"guest_exit"`
	GuestStderr string `json:"guest_stderr,omitempty"`
}

// Counts returns the number of passed, failed and unsupported scenarios.
func (r *Report) Counts() (pass, fail, skip int) {
	for _, x := range r.Results {
		switch x.Status {
		case guestapi.Pass:
			pass++
		case guestapi.Fail:
			fail++
		default:
			skip++
		}
	}
	return
}

// Run runs the guest of p.Client against a fresh server of p.Server.
func (r *Rig) Run(ctx context.Context, p Pair) (*Report, error) {
	if p.Client == nil || p.Server == nil {
		return nil, errors.New("rig: pair needs a client and a server ABI")
	}
	if p.Version == (sp.Version{}) {
		p.Version = sp.Version04
	}
	k, err := r.opts.NewKernel(p.Server)
	if err != nil {
		return nil, err
	}
	scfg := sp.DefaultServerConfig(p.Server)
	scfg.Version = p.Version
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

	timeout := p.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	bias := p.AddressBias
	if bias == 0 {
		bias = DefaultAddressBias
	}
	cfg := &guestapi.Config{
		Role: guestapi.RoleMain, URL: u.String(), ABI: p.Client, Mode: p.Mode.String(),
		Version: p.Version.String(), Scenarios: p.Scenarios, AddressBias: bias,
		TimeoutMillis: int(timeout / time.Millisecond),
	}
	if p.Mode == sp.ModeClientTranslates {
		cfg.ServerABI = p.Server
	}
	rep := &Report{Client: p.Client.Name, Server: p.Server.Name, Mode: p.Mode.String(), Version: p.Version.String()}
	var mu sync.Mutex
	run := &wasmhost.Run{
		Engine: r.engine,
		Dial:   dialUnix,
		Report: func(res guestapi.Result) {
			mu.Lock()
			rep.Results = append(rep.Results, Result{Result: res, Explanation: explain(p, obs, res)})
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
	rep.GuestExit = ex.Code
	if ex.Err != nil || (ex.Code != 0 && ex.Code != 1) {
		rep.GuestStderr = strings.TrimSpace(ex.Stderr)
		failMissing(rep, p.Scenarios, ex, gctx.Err() != nil)
	}
	return rep, nil
}

// failMissing records, for a guest that hung, trapped or died, a failed
// result for every requested scenario it never reported, and one for the
// guest itself: a broken guest is a failure, never a silent gap.
func failMissing(rep *Report, want []string, ex wasmhost.Exit, timedOut bool) {
	layer, why := guestapi.LayerGuest, fmt.Sprintf("guest ended with exit code %d", ex.Code)
	if ex.Err != nil {
		why = ex.Err.Error()
	}
	if timedOut {
		layer = guestapi.LayerTimeout
	}
	seen := map[string]bool{}
	for _, r := range rep.Results {
		seen[r.Scenario] = true
	}
	for _, n := range want {
		if !seen[n] {
			rep.Results = append(rep.Results, Result{Result: guestapi.Result{Scenario: n, Status: guestapi.Fail, Layer: layer,
				Detail: "no result: " + why}})
		}
	}
	rep.Results = append(rep.Results, Result{Result: guestapi.Result{Scenario: GuestScenario, Status: guestapi.Fail, Layer: layer, Detail: why}})
}

// GuestScenario is the name under which a run reports a guest that did
// not end normally.
const GuestScenario = "(guest)"

func dialUnix(ctx context.Context, url string) (wasmhost.Conn, error) {
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
