// Package scenario is sprig's scenario suite: the checks a sysproxy client
// of a chosen ABI runs against a server, each reporting pass, fail (with
// the layer that broke and the first wrong field) or unsupported. The
// same code runs in the WebAssembly guest (guest/scenarios, under
// wazero) and as a native program (guest/native, built for any GOARCH
// and run on real or emulated CPUs): an Env says how to reach the
// server, where the client's memory lives, how to report and how to
// start a fork child.
//
// Scenarios check only what NetBSD (and POSIX) guarantee, so they can
// judge any sysproxy server: each works in a fresh directory of its own,
// assumes no descriptor numbers, uids, pids or seeded files, and answers
// unsupported, with the reason, where the server lacks what it needs
// (ENOSYS, a file system without rename). docs/scenarios.md lists them.
//
// It is not a test framework for Go code: it is a client program.
package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/internal/flatmem"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/strace"
)

// Env is where a scenario runner runs.
type Env interface {
	// Dial connects to the server at url.
	Dial(ctx context.Context, url string) (io.ReadWriteCloser, error)
	// NewMemory returns size bytes of the client's memory, at addresses
	// the client may put on the wire.
	NewMemory(size int) *flatmem.Memory
	// Report hands one scenario result to whoever runs the guest.
	Report(r guestapi.Result) error
	// Spawn starts a second client program with cfg (the fork child),
	// running concurrently with the caller.
	Spawn(ctx context.Context, cfg *guestapi.Config) (Child, error)
}

// Child is a program started by Env.Spawn.
type Child interface {
	// Wait waits until the child exits or ctx ends and returns its exit
	// code.
	Wait(ctx context.Context) (int, error)
}

// Exit codes of Main.
const (
	ExitPass   = 0 // every scenario passed or was unsupported
	ExitFail   = 1 // some scenario failed
	ExitBroken = 3 // the runner itself could not work (bad config, no report channel)
)

// memorySize is each scenario's client memory.
const memorySize = 1 << 20

// traceLines is how many syscalls a failure's trace shows.
const traceLines = 24

// defaultTimeout bounds a scenario when the configuration does not.
const defaultTimeout = 10 * time.Second

// scenario is one named check. Names are stable: they appear in reports
// and CI.
type scenario struct {
	name string
	run  func(t *T)
}

// T is a running scenario: its connection, its memory and its checks.
// A failed check stops the scenario (like testing.T's FailNow) with a
// result that says which layer broke and, for data, which field.
type T struct {
	ctx    context.Context
	name   string
	cfg    *guestapi.Config
	env    Env
	c      *sp.Client
	mem    *flatmem.Memory
	space  *space         // mem as the client serves it, recording mappings
	frames *frameLog      // every frame of the connection, counted
	ring   *strace.Tracer // the last syscalls, for a failure's report
	own    *abi.Descriptor
	lay    *netbsd.Layouts // own's, looked up once
	checks int
	result *guestapi.Result

	dir     string   // the scenario's own directory, once made
	mounted bool     // a tmpfs is mounted on dir
	cleanup []func() // run after the scenario, newest first
}

// stop ends a scenario early; recovered by runScenario.
type stop struct{}

func (t *T) finish(r guestapi.Result) {
	t.result = &r
	panic(stop{})
}

// Fail ends the scenario as failed at layer with detail.
func (t *T) Fail(layer guestapi.Layer, format string, args ...any) {
	t.finish(guestapi.Result{Status: guestapi.Fail, Layer: layer, Detail: fmt.Sprintf(format, args...)})
}

// Unsupported ends the scenario as not applicable to this server.
func (t *T) Unsupported(format string, args ...any) {
	t.finish(guestapi.Result{Status: guestapi.Unsupported, Detail: fmt.Sprintf(format, args...)})
}

// FailErr classifies a protocol error by the layer it broke.
func (t *T) FailErr(what string, err error) {
	t.Fail(layerOf(err), "%s: %v", what, err)
}

func layerOf(err error) guestapi.Layer {
	var crash *sp.CrashError
	switch {
	case errors.As(err, &crash):
		return guestapi.LayerCrash
	case errors.Is(err, context.DeadlineExceeded):
		return guestapi.LayerTimeout
	case errors.Is(err, sp.ErrBodySize):
		return guestapi.LayerDecoding
	case errors.Is(err, sp.ErrFrameTooLarge), errors.Is(err, sp.ErrFrameTooShort), errors.Is(err, sp.ErrMalformed):
		return guestapi.LayerFraming
	case errors.Is(err, sp.ErrClosed):
		return guestapi.LayerDisconnect
	}
	var re *abi.RangeError
	if errors.As(err, &re) {
		// The call never left the client: an argument does not fit the
		// wire ABI (a misread descriptor in a 4-byte slot, say).
		return guestapi.LayerData
	}
	return guestapi.LayerFraming // any other protocol or transport error
}

// FailField ends the scenario with a data failure naming the first wrong
// member of a struct in the client's layout.
func (t *T) FailField(l *abi.Layout, path string, expected, got any) {
	t.FailFieldIn("", l, path, expected, got)
}

// FailFieldIn is FailField for a struct that came back from call, which
// the detail names ("__stat50").
func (t *T) FailFieldIn(call string, l *abi.Layout, path string, expected, got any) {
	off, fl, err := l.Field(path)
	if err != nil {
		t.Fail(guestapi.LayerGuest, "checking %s.%s: %v", l.Type.Name(), path, err)
	}
	name := strings.TrimPrefix(l.Type.Name(), "struct ")
	detail := fmt.Sprintf("%s.%s: expected %v, read %v", name, path, expected, got)
	if call != "" {
		detail = call + ": " + detail
	}
	t.finish(guestapi.Result{
		Status: guestapi.Fail, Layer: guestapi.LayerData,
		Detail: detail,
		Field: &guestapi.FieldMismatch{
			Struct: name, Path: path,
			Expected: fmt.Sprint(expected), Got: fmt.Sprint(got),
			ClientOffset: off, ClientSize: fl.Size, ClientStructSize: l.Size,
		},
	})
}

// FailValue ends the scenario with a data failure on a plain value.
func (t *T) FailValue(path string, expected, got any) {
	t.finish(guestapi.Result{
		Status: guestapi.Fail, Layer: guestapi.LayerData,
		Detail: fmt.Sprintf("%s: expected %v, got %v", path, expected, got),
		Field:  &guestapi.FieldMismatch{Path: path, Expected: fmt.Sprint(expected), Got: fmt.Sprint(got), Call: t.lastCall()},
	})
}

// lastCall names the syscall whose reply arrived last, the one a failed
// value check is most likely about.
func (t *T) lastCall() string {
	if t.frames == nil {
		return ""
	}
	if n := t.frames.lastAnswered(); n != 0 {
		return netbsd.Sysno(n).String()
	}
	return ""
}

// Check counts one verified value.
func (t *T) Check() { t.checks++ }

// Timeout returns the per-scenario deadline of cfg.
func Timeout(cfg *guestapi.Config) time.Duration {
	if cfg.TimeoutMillis > 0 {
		return time.Duration(cfg.TimeoutMillis) * time.Millisecond
	}
	return defaultTimeout
}

func runScenario(cfg *guestapi.Config, env Env, s scenario) guestapi.Result {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout(cfg))
	defer cancel()
	t := &T{ctx: ctx, name: s.name, cfg: cfg, env: env}
	start := time.Now()
	var syscalls []uint32
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stop); !ok {
					t.result = &guestapi.Result{Status: guestapi.Fail, Layer: guestapi.LayerGuest, Detail: fmt.Sprintf("guest panic: %v", r)}
				}
			}
		}()
		if err := t.connect(); err != nil {
			t.FailErr("connect", err)
		}
		defer t.c.Close()
		defer func() {
			// The syscalls the scenario sent, before the clean-up adds its
			// own: those depend on what was left behind.
			syscalls = t.frames.syscalls()
			t.runCleanup()
		}()
		s.run(t)
	}()
	r := guestapi.Result{Status: guestapi.Pass}
	if t.result != nil {
		r = *t.result
	}
	if r.Status == guestapi.Fail && t.ring != nil {
		r.Trace = t.ring.Lines()
	}
	if r.Layer == guestapi.LayerTimeout && r.Detail != "" {
		r.Detail += fmt.Sprintf(" (the scenario's deadline is %v)", Timeout(cfg))
	}
	r.Scenario = s.name
	r.Checks = t.checks
	r.Syscalls = syscalls
	r.Millis = float64(time.Since(start).Microseconds()) / 1000
	return r
}

// Main runs the scenarios cfg asks for (all of them when it names none)
// and reports each through env; a fork child runs its one scenario. It
// returns the program's exit code.
func Main(cfg *guestapi.Config, env Env) int {
	switch cfg.Role {
	case guestapi.RoleForkChild:
		return runForkChild(cfg, env)
	case guestapi.RoleBench:
		return runBench(cfg, env)
	}
	want := map[string]bool{}
	for _, n := range cfg.Scenarios {
		want[n] = true
	}
	code := ExitPass
	for _, s := range scenarios() {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		r := runScenario(cfg, env, s)
		if err := env.Report(r); err != nil {
			return ExitBroken
		}
		if r.Status == guestapi.Fail {
			code = ExitFail
		}
	}
	return code
}

// Names returns the scenarios Main can run, in report order.
func Names() []string {
	var out []string
	for _, s := range scenarios() {
		out = append(out, s.name)
	}
	return out
}

// connect dials, reads the banner and sets up the client and memory for
// one scenario. It does not handshake: most scenarios start with guest().
func (t *T) connect() error {
	cfg := t.cfg
	if cfg.ABI == nil {
		return errors.New("the configuration names no ABI")
	}
	mode, err := sp.ParseMode(cfg.Mode)
	if err != nil {
		return err
	}
	conn, err := t.env.Dial(t.ctx, cfg.URL)
	if err != nil {
		return err
	}
	t.own = cfg.ABI
	t.lay = netbsd.LayoutsFor(cfg.ABI)
	t.mem = t.env.NewMemory(memorySize)
	t.space = &space{Memory: t.mem}
	t.frames = newFrameLog()
	cc := sp.DefaultClientConfig(cfg.ABI)
	cc.Mode = mode
	cc.ServerABI = cfg.ServerABI
	cc.ProgramName = "sprig-guest"
	cc.Memory = t.space
	cc.OnSignal = t.mem.Raise
	cc.Faithful = mode == sp.ModeNative // read mismatched bodies as the C client would
	// The trace needs the wire ABI, which the banner settles; no frame
	// moves before NewClient returns.
	var ringHook atomic.Pointer[func(sp.Direction, *sp.Frame)]
	cc.Trace = func(d sp.Direction, f *sp.Frame) {
		t.frames.trace(d, f)
		if h := ringHook.Load(); h != nil {
			(*h)(d, f)
		}
	}
	switch cfg.Version {
	case "0.1":
		cc.Version = sp.Version01
	case "0.4":
		cc.Version = sp.Version04
	}
	c, err := sp.NewClient(conn, cc)
	if err != nil {
		conn.Close()
		return err
	}
	if c.WireABI().Pointer.Size == 8 {
		t.mem.SetBase(t.mem.Base() + cfg.AddressBias)
	}
	t.ring = strace.NewRing(traceLines, cfg.ABI.Name)
	hook := t.ring.ClientFrame(1, c.WireABI())
	ringHook.Store(&hook)
	t.c = c
	return nil
}

// defer adds f to what runs after the scenario, passed or not.
func (t *T) atEnd(f func()) { t.cleanup = append(t.cleanup, f) }

// runCleanup runs the clean-ups, newest first. A clean-up cannot fail
// the scenario: the verdict is already in.
func (t *T) runCleanup() {
	verdict := t.result
	defer func() { t.result = verdict }()
	for i := len(t.cleanup) - 1; i >= 0; i-- {
		func() {
			defer func() { recover() }()
			t.cleanup[i]()
		}()
	}
}

// syscalls returns the numbers of the syscalls sent so far, each once,
// in ascending order.
func (l *frameLog) syscalls() []uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(maps.Keys(l.sys))
}
