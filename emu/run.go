package emu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
)

// RunConfig configures one run of a built client. Start from
// DefaultRunConfig.
type RunConfig struct {
	// URL is the server: unix://PATH or tcp://A.B.C.D:PORT.
	URL string
	// Mode is how the client meets a server of another ABI: native (the
	// zero value) for every program, server- or client-translates for a
	// Go runner (Target.Modes).
	Mode sp.Mode
	// ServerABI is the server's ABI for client-translates; nil lets the
	// runner learn it from the banner. A descriptor that is not
	// registered is handed over as a JSON file.
	ServerABI *abi.Descriptor
	// Scenarios to run, by name; empty runs all but the destructive ones
	// (unless Destructive).
	Scenarios []string
	// Version is the protocol era to speak, "0.1" or "0.4"; empty follows
	// the server's banner.
	Version string
	// Timeout is each scenario's deadline; a scenario still running then
	// is a "timeout" result.
	Timeout time.Duration
	// Destructive allows scenarios that may crash a C server (efault).
	Destructive bool
	// PadFill is written into a C client's argument slot padding (0 as
	// NetBSD's 0.4 stubs send; a poison shows a server that reads whole
	// slots).
	PadFill byte
}

// DefaultRunConfig runs every non-destructive scenario against url with a
// 10-second deadline each.
func DefaultRunConfig(url string) RunConfig {
	return RunConfig{URL: url, Timeout: 10 * time.Second}
}

func (c *RunConfig) verify() error {
	bad := func(field, why string) error { return fmt.Errorf("emu: run config: %s %s", field, why) }
	switch {
	case !strings.HasPrefix(c.URL, "unix://") && !strings.HasPrefix(c.URL, "tcp://"):
		return bad("URL", fmt.Sprintf("%q is not unix://PATH or tcp://A.B.C.D:PORT", c.URL))
	case c.Version != "" && c.Version != "0.1" && c.Version != "0.4":
		return bad("Version", fmt.Sprintf("is %q; want \"\", \"0.1\" or \"0.4\"", c.Version))
	case c.Timeout < time.Millisecond:
		return bad("Timeout", fmt.Sprintf("is %v; want at least 1ms", c.Timeout))
	}
	for _, s := range c.Scenarios {
		if s == "" || strings.HasPrefix(s, "-") || strings.ContainsAny(s, ", \t\n") {
			return bad("Scenarios", fmt.Sprintf("holds %q, not a scenario name", s))
		}
	}
	return nil
}

// Run is what one run of the client reported.
type Run struct {
	// Results are the scenarios' results in the order the client ran
	// them (a fork child just before its parent).
	Results []guestapi.Result
	// ExitCode is the client's: 0 when nothing failed, 1 when a scenario
	// did.
	ExitCode int
	// Stderr is what the client and qemu wrote there (qemu notes each
	// crash of an emulated process).
	Stderr string
	// Wall is how long the run took.
	Wall time.Duration
	// Command is what ran: qemu, the binary and its flags.
	Command []string
	// Tools are the versions of what built and ran the client.
	Tools Tools
}

// Tools names the tools a run depended on, for reports.
type Tools struct {
	// Compiler is the C compiler's --version line
	// ("mips-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0") or the Go
	// version ("go1.26.8").
	Compiler string
	// Emulator is qemu's --version line ("qemu-mips version 7.2.19
	// (Debian ...)"), empty when the host ran the binary itself.
	Emulator string
}

// qemuVersions caches each emulator's --version line by path.
var qemuVersions sync.Map // string → string

// Result returns the result of the scenario called name.
func (r *Run) Result(name string) (guestapi.Result, bool) {
	for _, x := range r.Results {
		if x.Scenario == name {
			return x, true
		}
	}
	return guestapi.Result{}, false
}

// grace is how long past the scenarios' deadlines a run may take before
// it is killed: the client's own grace is 3 s per scenario.
const grace = 5 * time.Second

// command builds the argv of a run: the binary under qemu unless native.
func (b *Binary) command(args ...string) ([]string, error) {
	if b.Target.Native() {
		return slices.Concat([]string{b.Path}, args), nil
	}
	q, err := b.Target.lookPath(b.Target.Qemu, "emulator")
	if err != nil {
		return nil, err
	}
	return slices.Concat([]string{q, b.Path}, args), nil
}

// tools returns the versions of b's compiler and emulator.
func (b *Binary) tools(ctx context.Context, argv []string) (Tools, error) {
	tools := Tools{Compiler: b.CompilerVersion}
	if b.Target.Native() {
		return tools, nil
	}
	if v, ok := qemuVersions.Load(argv[0]); ok {
		tools.Emulator = v.(string)
		return tools, nil
	}
	v, err := firstLine(ctx, argv[0], "--version")
	if err != nil {
		return tools, err
	}
	qemuVersions.Store(argv[0], v)
	tools.Emulator = v
	return tools, nil
}

// newCmd prepares argv with the program's environment.
func (b *Binary) newCmd(ctx context.Context, argv []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if env := b.Target.program().env(b.Target); len(env) > 0 {
		cmd.Env = append(cmd.Environ(), env...)
	}
	return cmd
}

// Run runs the client against cfg.URL and parses its results. A crashed
// or failing scenario is a result, not an error; an error means the
// client could not run or said something that is not a result.
func (b *Binary) Run(ctx context.Context, cfg RunConfig) (*Run, error) {
	if err := cfg.verify(); err != nil {
		return nil, err
	}
	if !slices.Contains(b.Target.Modes(), cfg.Mode) {
		return nil, fmt.Errorf("emu: run config: Mode %v: the %s runs only in %v", cfg.Mode, b.Target.Program, b.Target.Modes())
	}
	var tmp scratch
	defer tmp.remove()
	args, err := b.Target.program().args(b.Target, cfg, &tmp)
	if err != nil {
		return nil, err
	}
	argv, err := b.command(args...)
	if err != nil {
		return nil, err
	}
	tools, err := b.tools(ctx, argv)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		n := len(cfg.Scenarios)
		if n == 0 {
			n = 32
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(n+1)*(cfg.Timeout+grace))
		defer cancel()
	}
	var stdout, stderr bytes.Buffer
	cmd := b.newCmd(ctx, argv)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ownProcessGroup(cmd) // each scenario is a child process: stop them all
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	runErr := cmd.Run()
	run := &Run{Stderr: stderr.String(), Wall: time.Since(start), Command: argv, Tools: tools}
	results, perr := parseResults(stdout.Bytes())
	run.Results = results
	var exit *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exit) && exit.ExitCode() == 1:
		run.ExitCode = 1
	case ctx.Err() != nil:
		return run, fmt.Errorf("emu: %s: the client ran past its deadline (%d results so far): %w", b.Target.Name, len(results), ctx.Err())
	case b.Target.Program == GoRunner && !b.Target.Native() && (killedBySignal(runErr) || runtimeThrew(run.Stderr)):
		// The Go runtime's own crash under qemu-user: qemu's doing, not
		// the runner's (see ErrEmulator). A fault in sprig's code would be
		// a panic, or one of the fatal errors a program can cause.
		return run, fmt.Errorf("emu: %s: %w: %v\n%s", b.Target.Name, ErrEmulator, runErr, strings.TrimSpace(run.Stderr))
	default:
		return run, fmt.Errorf("emu: %s: %s: %v\n%s", b.Target.Name, strings.Join(argv, " "), runErr, strings.TrimSpace(run.Stderr))
	}
	if perr != nil {
		return run, fmt.Errorf("emu: %s: %w", b.Target.Name, perr)
	}
	return run, nil
}

// ErrEmulator is returned, wrapped, when a Go runner under qemu-user died
// of a signal or of a failed consistency check inside the Go runtime: the
// emulator failed the Go runtime, so the run says nothing about the
// runner; running it again normally succeeds. Two such failures are
// known. qemu's delivery of signals to arbitrary instructions ("fatal:
// morestack on gsignal"). And on i386, qemu-user keeps one descriptor
// table for all of a process's threads, where Linux keeps each thread's
// TLS entries apart: the Go runtime gives every thread the same TLS
// entry, so two threads starting at once can end up with one's g and m
// ("wirep: already in go", "morestack on g0"), about once in a thousand
// runs on a loaded machine.
var ErrEmulator = errors.New("the Go runtime died under qemu-user")

// runtimeThrew tells whether a Go program's stderr shows the runtime's
// own consistency check failing (runtime.throw), as opposed to a panic or
// to the fatal errors a program can cause itself: a deadlock or
// concurrent map writes (whose tracebacks leave runtime.throw out), and
// a stack overflow or running out of memory (which throw, and are named).
func runtimeThrew(stderr string) bool {
	if strings.Contains(stderr, "fatal error: stack overflow") || strings.Contains(stderr, "out of memory") {
		return false
	}
	return strings.Contains(stderr, "fatal error: ") && strings.Contains(stderr, "\nruntime.throw(")
}

// killedBySignal tells whether err is a process's death by a signal.
func killedBySignal(err error) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	ws, ok := exit.Sys().(interface{ Signaled() bool })
	return ok && ws.Signaled()
}

// Scenarios returns the names the client runs, in its order; destructive
// ones are marked by destructive[name].
func (b *Binary) Scenarios(ctx context.Context) (names []string, destructive map[string]bool, err error) {
	argv, err := b.command("--list")
	if err != nil {
		return nil, nil, err
	}
	out, err := b.newCmd(ctx, argv).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("emu: %s: --list: %w", b.Target.Name, err)
	}
	destructive = map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, mark, _ := strings.Cut(line, " ")
		names = append(names, name)
		if b.Target.program().destructive(name, mark) {
			destructive[name] = true
		}
	}
	return names, destructive, nil
}

// maxLine bounds one result line.
const maxLine = 1 << 20

// parseResults reads one guestapi.Result per line, strictly: a field the
// Go type lacks means the two sides drifted apart.
func parseResults(out []byte) ([]guestapi.Result, error) {
	var results []guestapi.Result
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var r guestapi.Result
		if err := dec.Decode(&r); err != nil {
			return results, fmt.Errorf("result line %d %.80q: %w", n, line, err)
		}
		if dec.More() {
			return results, fmt.Errorf("result line %d %.80q: more than one JSON value", n, line)
		}
		switch r.Status {
		case guestapi.Pass, guestapi.Fail, guestapi.Unsupported:
		default:
			return results, fmt.Errorf("result line %d: status %q", n, r.Status)
		}
		if r.Scenario == "" {
			return results, fmt.Errorf("result line %d: no scenario name", n)
		}
		results = append(results, r)
	}
	if err := sc.Err(); err != nil {
		return results, fmt.Errorf("results: %w", err)
	}
	return results, nil
}

// LayerCrash is the layer of a scenario whose client process died of a
// signal (a misread pointer dereferenced): "client crashed: SIGSEGV in
// serving a COPYINSTR request ...". guestapi has no name for it yet.
const LayerCrash guestapi.Layer = "crash"

// Outcome classifies a result for tables: "pass", "unsupported", or the
// layer a failure broke at ("crash", "data", "disconnect", ...).
func Outcome(r guestapi.Result) string {
	if r.Status != guestapi.Fail {
		return string(r.Status)
	}
	if r.Layer == "" {
		return "fail"
	}
	return string(r.Layer)
}
