// Package wasmhost runs sprig's WebAssembly guests under wazero and
// implements the "sprig" host module they import: configuration, sockets
// owned by the host, result reports, and spawning a second instance for
// the fork scenario. Its WASI poll_oneoff lets a guest wait for its
// sockets without polling (poll.go). One Engine compiles a guest once and shares the
// compiled module between every instance it runs.
package wasmhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

// EnvCacheDir overrides the compilation cache directory.
const EnvCacheDir = "SPRIG_CACHE_DIR"

// Options configure an Engine.
type Options struct {
	// CacheDir holds wazero's compilation cache; "" picks
	// $SPRIG_CACHE_DIR or the user cache dir, "-" disables the cache.
	CacheDir string
	// MemoryLimitPages bounds each instance's linear memory (64 KiB
	// pages); 0 means 2048 pages (128 MiB).
	MemoryLimitPages uint32
	// Interruptible compiles the guest with wazero's termination checks,
	// so that an instance stops at its deadline even in a loop that makes
	// no host call. The checks (a call at every loop iteration) make
	// guest code several times slower. Without them an instance stops at
	// its next call of poll_oneoff or of a sprig host function after its
	// deadline: every wait of a Go guest and all of its socket I/O are
	// such calls (its clock readings and its stderr are other WASI calls,
	// which do not stop it). One that makes none is abandoned (see
	// Run.Instance), and stalls the host's next garbage collection, which
	// cannot stop a goroutine inside compiled wasm code.
	Interruptible bool
	// ReadSpin is how long a guest's wait for its socket polls before it
	// sleeps (package rawsock's SetSpin); 0, the default, never polls:
	// right where many instances and servers share the process's CPUs,
	// as in the rig's matrix; a guest timed alone (sprig bench) polls as
	// bench's native client does. (SetSpin bounds it.)
	ReadSpin time.Duration
}

// Engine runs instances of one compiled guest.
type Engine struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	cache    wazero.CompilationCache
	gcLimit  string // GOMEMLIMIT for Go guests: half their memory
	readSpin time.Duration
	CacheDir string // the directory in use, "" when uncached

	mu        sync.Mutex
	abandoned int  // instances given up on that still run
	closed    bool // Close was called; the last abandoned instance releases
}

// DefaultCacheDir returns where compiled guests are cached by default.
func DefaultCacheDir() string {
	if d := os.Getenv(EnvCacheDir); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sprig", "wazero")
	}
	return filepath.Join(os.TempDir(), "sprig-wazero-cache")
}

// NewEngine compiles wasm (or loads it from the cache).
func NewEngine(ctx context.Context, wasm []byte, o Options) (*Engine, error) {
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(o.Interruptible)
	pages := o.MemoryLimitPages
	if pages == 0 {
		pages = 2048
	}
	rc = rc.WithMemoryLimitPages(pages)
	// A Go guest collects garbage only as its heap nears half its memory
	// (GOGC=off with GOMEMLIMIT): guest runs are short and allocate a few
	// MiB, and Go's collector compiled to wasm cost a fifth of the
	// matrix's CPU. Guests that are not Go ignore both variables.
	e := &Engine{gcLimit: fmt.Sprintf("%dMiB", uint64(pages)*64/1024/2), readSpin: o.ReadSpin}
	dir := o.CacheDir
	if dir == "" {
		dir = DefaultCacheDir()
	}
	if dir != "-" {
		if cache, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
			e.cache, e.CacheDir = cache, dir
			rc = rc.WithCompilationCache(cache)
		}
	}
	e.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	// With termination checks wazero stops an instance itself, and frees
	// its memory when the instance's call unwinds; the host functions
	// must leave that to it. Without them they end a stopped instance.
	wrap := stoppable
	if o.Interruptible {
		wrap = func(f api.GoModuleFunc) api.GoModuleFunc { return f }
	}
	if err := instantiateWASI(ctx, e.rt, wrap); err != nil {
		e.Close(ctx)
		return nil, err
	}
	if err := instantiateHostModule(ctx, e.rt, wrap); err != nil {
		e.Close(ctx)
		return nil, err
	}
	m, err := e.rt.CompileModule(ctx, coalesceData(wasm))
	if err != nil {
		e.Close(ctx)
		return nil, fmt.Errorf("wasmhost: compiling guest: %w", err)
	}
	e.compiled = m
	if e.cache != nil {
		pruneCache(dir, time.Now()) // see cache.go
	}
	return e, nil
}

// wakeMount gives every instance the wake directory (see poll.go).
var wakeMount = wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(wakeFS{}, WakeDir)

// instantiateWASI instantiates wazero's WASI with poll_oneoff replaced by
// one that waits for the guest's bound connections (see poll.go).
func instantiateWASI(ctx context.Context, rt wazero.Runtime, wrap func(api.GoModuleFunc) api.GoModuleFunc) error {
	i32 := api.ValueTypeI32
	b := rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	b.NewFunctionBuilder().
		WithGoModuleFunction(wrap(pollOneoff), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).
		WithParameterNames("in", "out", "nsubscriptions", "result.nevents").
		Export("poll_oneoff")
	_, err := b.Instantiate(ctx)
	return err
}

// Close releases the runtime. While an abandoned instance still runs,
// the runtime (and that instance's memory) stays until it returns.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.abandoned > 0 {
		return nil
	}
	return e.release(ctx)
}

func (e *Engine) release(ctx context.Context) error {
	err := e.rt.Close(ctx)
	if e.cache != nil {
		e.cache.Close(ctx)
	}
	return err
}

// Dialer connects a guest's dial request to a server.
type Dialer func(ctx context.Context, url string) (Conn, error)

// Run is one guest run: the main instance and any it spawns.
type Run struct {
	Engine *Engine
	Dial   Dialer
	// Report receives every result any instance reports, in order.
	Report func(guestapi.Result)

	mu      sync.Mutex
	started func(api.Module) // a test's look at each instance as it starts
}

// Exit is how an instance ended.
type Exit struct {
	Code   int
	Stderr string
	Err    error // a trap, a timeout, or nil for a normal exit
}

// abandonAfter is how long an instance may go on after its deadline
// before Instance gives up waiting for it.
var abandonAfter = 2 * time.Second

// Instance runs one guest instance with cfg until it exits or ctx ends.
// An instance that has not stopped abandonAfter past the end of ctx (it
// was compiled without Options.Interruptible and has called neither
// poll_oneoff nor a sprig host function since) is abandoned: Instance
// returns ErrAbandoned, and the instance keeps its goroutine and memory
// until it returns, if ever.
func (r *Run) Instance(ctx context.Context, cfg *guestapi.Config) Exit {
	js, err := marshalConfig(cfg)
	if err != nil {
		return Exit{Code: -1, Err: err}
	}
	st := newInstanceState(r, js)
	defer st.closeAll()
	stderr := &lockedWriter{w: &bytes.Buffer{}}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs("sprig-guest").
		WithEnv("GOGC", "off").
		WithEnv("GOMEMLIMIT", r.Engine.gcLimit).
		WithStderr(stderr).
		WithStdout(stderr).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithFSConfig(wakeMount).
		WithStartFunctions() // _start is called below, under ctx
	ctx = withState(ctx, st)
	defer context.AfterFunc(ctx, st.stop)()
	mod, err := r.Engine.rt.InstantiateModule(withMemoryAllocator(ctx), r.Engine.compiled, mc)
	if err != nil {
		return Exit{Code: -1, Err: fmt.Errorf("wasmhost: instantiating guest: %w", err)}
	}
	start := mod.ExportedFunction("_start")
	if start == nil {
		mod.Close(context.Background())
		return Exit{Code: -1, Err: errors.New("wasmhost: guest has no _start")}
	}
	if r.started != nil {
		r.started(mod)
	}
	e := r.Engine
	called := make(chan error, 1)
	abandoned := false // under e.mu
	go func() {
		_, err := start.Call(ctx)
		// Closing frees the memory, so only once no guest code runs.
		mod.Close(context.Background())
		e.mu.Lock()
		defer e.mu.Unlock()
		called <- err
		if abandoned {
			e.abandoned--
			if e.closed && e.abandoned == 0 {
				e.release(context.Background())
			}
		}
	}()
	select {
	case err = <-called:
	case <-ctx.Done():
		t := time.NewTimer(abandonAfter)
		select {
		case err = <-called:
			t.Stop()
		case <-t.C:
			e.mu.Lock()
			select {
			case err = <-called: // it returned just now
				e.mu.Unlock()
			default:
				abandoned = true
				e.abandoned++
				e.mu.Unlock()
				return Exit{Code: -1, Stderr: stderr.String(), Err: fmt.Errorf("wasmhost: guest stopped: %w: %w", ctx.Err(), ErrAbandoned)}
			}
		}
	}
	ex := Exit{Stderr: stderr.String()}
	var ee *sys.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		ex.Code = int(ee.ExitCode())
	case ctx.Err() != nil:
		ex.Code, ex.Err = -1, fmt.Errorf("wasmhost: guest stopped: %w", ctx.Err())
	default:
		ex.Code, ex.Err = -1, fmt.Errorf("wasmhost: guest crashed: %w", err)
	}
	st.wait()
	return ex
}

// ErrAbandoned marks an instance that did not stop after its deadline.
var ErrAbandoned = errors.New("it did not stop after its deadline and was abandoned, still running")

// exitIfStopped ends the instance from inside a host call once its
// context has ended, as WASI's proc_exit ends it: without wazero's
// termination checks (Options.Interruptible) this is how a deadline
// stops a guest.
func exitIfStopped(ctx context.Context, m api.Module) {
	err := ctx.Err()
	if err == nil {
		return
	}
	code := sys.ExitCodeContextCanceled
	if errors.Is(err, context.DeadlineExceeded) {
		code = sys.ExitCodeDeadlineExceeded
	}
	m.CloseWithExitCode(ctx, code)
	panic(sys.NewExitError(code))
}

// stoppable wraps a host function so that a stopped instance exits at
// its call and at its return.
func stoppable(f api.GoModuleFunc) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		exitIfStopped(ctx, m)
		f(ctx, m, stack)
		exitIfStopped(ctx, m)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() > 64<<10 {
		return len(p), nil // a runaway guest cannot fill the host's memory
	}
	return l.w.Write(p)
}
