//go:build wasip1

package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/guest/internal/host"
	"github.com/rumpsprig/sprig/internal/flatmem"
	"github.com/rumpsprig/sprig/sp"
)

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
	c      *sp.Client
	mem    *flatmem.Memory
	space  *space    // mem as the client serves it, recording mappings
	frames *frameLog // every frame of the connection, counted
	own    *abi.Descriptor
	checks int
	result *guestapi.Result
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

// Unsupported ends the scenario as not applicable to this pair.
func (t *T) Unsupported(format string, args ...any) {
	t.finish(guestapi.Result{Status: guestapi.Unsupported, Detail: fmt.Sprintf(format, args...)})
}

// FailErr classifies a protocol error by the layer it broke.
func (t *T) FailErr(what string, err error) {
	t.Fail(layerOf(err), "%s: %v", what, err)
}

func layerOf(err error) guestapi.Layer {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return guestapi.LayerTimeout
	case errors.Is(err, sp.ErrBodySize):
		return guestapi.LayerDecoding
	case errors.Is(err, sp.ErrFrameTooLarge), errors.Is(err, sp.ErrFrameTooShort), errors.Is(err, sp.ErrMalformed):
		return guestapi.LayerFraming
	case errors.Is(err, sp.ErrClosed):
		return guestapi.LayerDisconnect
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

func runScenario(cfg *guestapi.Config, s scenario, dial func(*T) error) guestapi.Result {
	timeout := time.Duration(cfg.TimeoutMillis) * time.Millisecond
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	t := &T{ctx: ctx, name: s.name, cfg: cfg}
	start := time.Now()
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stop); !ok {
					t.result = &guestapi.Result{Status: guestapi.Fail, Layer: guestapi.LayerGuest, Detail: fmt.Sprintf("guest panic: %v", r)}
				}
			}
		}()
		if err := dial(t); err != nil {
			t.FailErr("connect", err)
		}
		defer t.c.Close()
		s.run(t)
	}()
	r := guestapi.Result{Status: guestapi.Pass}
	if t.result != nil {
		r = *t.result
	}
	r.Scenario = s.name
	r.Checks = t.checks
	if t.frames != nil { // the client is closed: no frame can arrive now
		r.Syscalls = slices.Sorted(maps.Keys(t.frames.sys))
	}
	r.Millis = float64(time.Since(start).Microseconds()) / 1000
	return r
}

func runMain(cfg *guestapi.Config) int {
	want := map[string]bool{}
	for _, n := range cfg.Scenarios {
		want[n] = true
	}
	code := 0
	for _, s := range scenarios() {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		r := runScenario(cfg, s, func(t *T) error { return connect(t, cfg) })
		if err := host.Report(r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		if r.Status == guestapi.Fail {
			code = 1
		}
	}
	return code
}

// connect dials, reads the banner and sets up the client and memory for
// one scenario. It does not handshake: most scenarios start with guest().
func connect(t *T, cfg *guestapi.Config) error {
	conn, err := host.Dial(cfg.URL)
	if err != nil {
		return err
	}
	mode, err := sp.ParseMode(cfg.Mode)
	if err != nil {
		return err
	}
	t.own = cfg.ABI
	t.mem = host.NewMemory(1 << 20)
	t.space = &space{Memory: t.mem}
	t.frames = newFrameLog()
	cc := sp.DefaultClientConfig(cfg.ABI)
	cc.Mode = mode
	cc.ServerABI = cfg.ServerABI
	cc.ProgramName = "sprig-guest"
	cc.Memory = t.space
	cc.OnSignal = t.mem.Raise
	cc.Faithful = mode == sp.ModeNative // read mismatched bodies as the C client would
	cc.Trace = t.frames.trace
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
	t.c = c
	return nil
}
