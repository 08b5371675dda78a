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
}

// Engine runs instances of one compiled guest.
type Engine struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	cache    wazero.CompilationCache
	gcLimit  string // GOMEMLIMIT for Go guests: half their memory
	CacheDir string // the directory in use, "" when uncached
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
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(true)
	pages := o.MemoryLimitPages
	if pages == 0 {
		pages = 2048
	}
	rc = rc.WithMemoryLimitPages(pages)
	// A Go guest collects garbage only as its heap nears half its memory
	// (GOGC=off with GOMEMLIMIT): guest runs are short and allocate a few
	// MiB, and Go's collector compiled to wasm cost a fifth of the
	// matrix's CPU. Guests that are not Go ignore both variables.
	e := &Engine{gcLimit: fmt.Sprintf("%dMiB", uint64(pages)*64/1024/2)}
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
	if err := instantiateWASI(ctx, e.rt); err != nil {
		e.Close(ctx)
		return nil, err
	}
	if err := instantiateHostModule(ctx, e.rt); err != nil {
		e.Close(ctx)
		return nil, err
	}
	m, err := e.rt.CompileModule(ctx, coalesceData(wasm))
	if err != nil {
		e.Close(ctx)
		return nil, fmt.Errorf("wasmhost: compiling guest: %w", err)
	}
	e.compiled = m
	return e, nil
}

// wakeMount gives every instance the wake directory (see poll.go).
var wakeMount = wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(wakeFS{}, WakeDir)

// instantiateWASI instantiates wazero's WASI with poll_oneoff replaced by
// one that waits for the guest's bound connections (see poll.go).
func instantiateWASI(ctx context.Context, rt wazero.Runtime) error {
	i32 := api.ValueTypeI32
	b := rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(pollOneoff), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).
		WithParameterNames("in", "out", "nsubscriptions", "result.nevents").
		Export("poll_oneoff")
	_, err := b.Instantiate(ctx)
	return err
}

// Close releases the runtime.
func (e *Engine) Close(ctx context.Context) error {
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

	mu     sync.Mutex
	stderr bytes.Buffer
}

// Exit is how an instance ended.
type Exit struct {
	Code   int
	Stderr string
	Err    error // a trap, a timeout, or nil for a normal exit
}

// Instance runs one guest instance with cfg until it exits or ctx ends.
func (r *Run) Instance(ctx context.Context, cfg *guestapi.Config) Exit {
	js, err := marshalConfig(cfg)
	if err != nil {
		return Exit{Code: -1, Err: err}
	}
	st := newInstanceState(r, js)
	defer st.closeAll()
	var errBuf bytes.Buffer
	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs("sprig-guest").
		WithEnv("GOGC", "off").
		WithEnv("GOMEMLIMIT", r.Engine.gcLimit).
		WithStderr(&lockedWriter{w: &errBuf}).
		WithStdout(&lockedWriter{w: &errBuf}).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithFSConfig(wakeMount).
		WithStartFunctions() // _start is called below, under ctx
	ctx = withState(ctx, st)
	defer context.AfterFunc(ctx, st.stop)()
	mod, err := r.Engine.rt.InstantiateModule(withMemoryAllocator(ctx), r.Engine.compiled, mc)
	if err != nil {
		return Exit{Code: -1, Err: fmt.Errorf("wasmhost: instantiating guest: %w", err)}
	}
	defer mod.Close(context.Background())
	start := mod.ExportedFunction("_start")
	if start == nil {
		return Exit{Code: -1, Err: errors.New("wasmhost: guest has no _start")}
	}
	_, err = start.Call(ctx)
	ex := Exit{Stderr: errBuf.String()}
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

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() > 64<<10 {
		return len(p), nil // a runaway guest cannot fill the host's memory
	}
	return l.w.Write(p)
}
