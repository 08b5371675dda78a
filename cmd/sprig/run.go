package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/strace"
)

var runDoc = doc{
	path: "sprig run",
	usage: "  sprig run [--abi ABI] [--server-abi ABI] [--server URL [--destructive]] [--mode MODE]\n" +
		"            [--version 0.1|0.4] [--scenario NAME ...] [--format text|json|junit] [--trace]\n" +
		"            [--guest FILE.wasm] [--cache-dir DIR] [--timeout D] [--address-bias N]\n" +
		"  sprig run --list [--format text|json|markdown]\n",
	details: `Runs sprig's guest client of one ABI against a server of another and prints
one line per scenario, then "N passed, N failed" (", N unsupported" when
the server lacks what some scenario needs). A failure names the layer
that broke (framing, reply decoding, data, crash, timeout, disconnect,
guest) and the first wrong field as each side laid it out.

The server is an in-process sprig server with the simulated NetBSD kernel
behind it, or, with --server, any sysproxy server (NetBSD's rump_server,
another sprig serve, your own implementation): the scenario suite as a
conformance test. Against an outside server each scenario works in a
fresh directory of its own, removes it afterwards, and checks only what
NetBSD guarantees; the destructive ones (efault, which crashes NetBSD's C
server) run only with --destructive.

Flags:
  --abi ABI            the client's ABI: a name, an alias or a JSON
                       descriptor file (default: the server's)
  --server-abi ABI     the server's ABI (default: this host's, ` + hostABIName() + `, or
                       with --server the one its banner names)
  --server URL         run against the sysproxy server at URL (unix://PATH,
                       tcp://A.B.C.D:PORT, tcp6://[ADDR]:PORT)
  --destructive        with --server, also run scenarios that can crash or
                       harm the server
  --mode MODE          native (default), server-translates or
                       client-translates
  --version V          protocol era, 0.1 or 0.4 (default 0.4)
  --scenario NAME      run only these scenarios: a comma-separated list, or
                       the flag repeated
  --list               print the scenarios (name, what it checks) and exit;
                       --format json or markdown for programs and docs
  --format FORMAT      text (default), json or junit
  --trace              print every syscall the server runs, strace style
  --guest FILE.wasm    run your own guest (see guest/README.md)
  --cache-dir DIR      wazero compilation cache (default $SPRIG_CACHE_DIR
                       or the user cache directory; "-" disables it)
  --timeout D          per-scenario timeout (default 10s)
  --address-bias N     added to the guest's addresses when the wire pointer
                       is 8 bytes wide, so any truncation to 32 bits shows
                       (default and 0: 0x5a5a00000000)

Exit status: 0 when no scenario failed (unsupported ones do not count),
1 when one failed, 3 when none failed but some ended in an error of the
environment (a deadline passed, the run was cancelled), 2 for a usage
error.
`,
}

func runCommand() *command {
	return &command{name: "run", summary: "run the guest scenarios of one client ABI against one server ABI", doc: runDoc, run: runRun}
}

// hostABIName maps the running Go architecture to sprig's ABI name.
func hostABIName() string {
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm", "arm64", "mips", "riscv64", "amd64":
		return runtime.GOARCH
	}
	return "amd64"
}

type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

// Set takes one name or a comma-separated list; the flag may repeat.
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(runDoc.path)
	clientName := fs.String("abi", "", "")
	serverName := fs.String("server-abi", "", "")
	serverURL := fs.String("server", "", "")
	destructive := fs.Bool("destructive", false, "")
	modeName := fs.String("mode", "native", "")
	version := fs.String("version", "0.4", "")
	var scenarios stringList
	fs.Var(&scenarios, "scenario", "")
	f := formatText
	fs.Var(formatFlag(&f, formatText, formatJSON, formatJUnit, formatMarkdown), "format", "")
	trace := fs.Bool("trace", false, "")
	guestFile := fs.String("guest", "", "")
	cacheDir := fs.String("cache-dir", "", "")
	timeout := fs.Duration("timeout", 10*time.Second, "")
	bias := fs.Uint64("address-bias", rig.DefaultAddressBias, "")
	list := fs.Bool("list", false, "")
	pos, done, code := parseFlags(fs, args, runDoc, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return runDoc.usageError(stderr, "unexpected argument %q", pos[0])
	}
	if *list {
		var b bytes.Buffer
		switch f {
		case formatText:
			writeScenarioList(&b)
		case formatJSON:
			if err := writeJSON(&b, scenarioList()); err != nil {
				return runDoc.failure(stderr, err)
			}
		default:
			writeScenarioMarkdown(&b)
		}
		return runDoc.output(stdout, stderr, &b)
	}
	if *destructive && *serverURL == "" {
		return runDoc.usageError(stderr, "--destructive needs --server (in-process runs are always complete)")
	}
	var server *abi.Descriptor
	var err error
	switch {
	case *serverName != "":
		if server, err = abi.Resolve(*serverName); err != nil {
			return runDoc.badName(stderr, err)
		}
	case *serverURL != "":
		if _, err := sp.ParseURL(*serverURL); err != nil {
			return runDoc.usageError(stderr, "--server: %v", err)
		}
		if server, _, err = rig.ServerABI(ctx, *serverURL); err != nil {
			if errors.Is(err, rig.ErrAmbiguousServer) {
				return runDoc.usageError(stderr, "%v (--server-abi)", err)
			}
			return runDoc.failure(stderr, err)
		}
	default:
		server = abi.MustLookup(hostABIName())
	}
	client := server
	if *clientName != "" {
		if client, err = abi.Resolve(*clientName); err != nil {
			return runDoc.badName(stderr, err)
		}
	}
	mode, err := rig.ParseMode(*modeName)
	if err != nil {
		return runDoc.usageError(stderr, "%v", err)
	}
	v, err := parseVersion(*version)
	if err != nil {
		return runDoc.usageError(stderr, "%v", err)
	}
	if *timeout <= 0 {
		return runDoc.usageError(stderr, "--timeout must be positive")
	}
	if *guestFile == "" {
		// The embedded guest's scenarios are known before anything runs.
		for _, n := range scenarios {
			if sc, ok := guestapi.LookupScenario(n); !ok || sc.ChildOnly {
				return runDoc.usageError(stderr, "no scenario named %q (sprig run --list shows them)", n)
			}
		}
	}
	opts := rig.Options{CacheDir: *cacheDir}
	if *guestFile != "" {
		if opts.Guest, err = os.ReadFile(*guestFile); err != nil {
			return runDoc.failure(stderr, err)
		}
	}
	r, err := newRig(ctx, opts, stderr)
	if err != nil {
		return runDoc.failure(stderr, err)
	}
	defer r.Close(context.Background())

	pair := rig.Pair{Client: client, Server: server, URL: *serverURL, Destructive: *destructive,
		Mode: mode, Version: v, Scenarios: scenarios, Timeout: *timeout, AddressBias: *bias}
	traceOut := stdout
	if f == formatJSON {
		traceOut = stderr
	}
	if *trace {
		if *serverURL != "" {
			return runDoc.usageError(stderr, "--trace shows what sprig's own server runs; an outside server's failures carry the client's trace")
		}
		pair.Trace = strace.New(traceOut, client.Name).ServerFrame
	}
	rep, err := r.Run(ctx, pair)
	if err != nil {
		return runDoc.failure(stderr, err)
	}
	if missing := missingScenarios(scenarios, rep); len(missing) > 0 {
		return runDoc.usageError(stderr, "no scenario named %s", strings.Join(missing, ", "))
	}
	var b bytes.Buffer
	switch f {
	case formatJSON:
		if err := writeJSON(&b, rep); err != nil {
			return runDoc.failure(stderr, err)
		}
	case formatJUnit:
		if err := rep.JUnit().Write(&b); err != nil {
			return runDoc.failure(stderr, err)
		}
	default:
		writeRunText(&b, rep)
	}
	if code := runDoc.output(stdout, stderr, &b); code != exitOK {
		return code
	}
	switch n := rep.Counts; {
	case n.Fail > 0:
		return exitFail
	case n.Error > 0:
		return exitError
	}
	return exitOK
}

func parseVersion(s string) (sp.Version, error) {
	switch s {
	case "0.1":
		return sp.Version01, nil
	case "0.4":
		return sp.Version04, nil
	}
	return sp.Version{}, fmt.Errorf("unknown protocol version %q (want 0.1 or 0.4)", s)
}

// missingScenarios returns the requested names no result carries.
func missingScenarios(want []string, rep *rig.Report) []string {
	seen := map[string]bool{}
	for _, r := range rep.Results {
		seen[r.Scenario] = true
	}
	var out []string
	for _, n := range want {
		if !seen[n] {
			out = append(out, n)
		}
	}
	if len(out) > 0 && rep.GuestExit != 0 && rep.GuestExit != 1 {
		return nil // the guest died; its missing scenarios are failures, not typos
	}
	return out
}

func writeRunText(w io.Writer, rep *rig.Report) {
	where := rep.Server + " server"
	if rep.URL != "" {
		where = rep.Server + " server at " + rep.URL
	}
	if len(rep.KernelExtensions) > 0 {
		where += " (kernel extensions " + strings.Join(rep.KernelExtensions, ", ") + " on)"
	}
	fmt.Fprintf(w, "%s client → %s, %s, protocol %s\n", rep.Client, where, rep.Mode, rep.Version)
	width := 0
	for _, r := range rep.Results {
		width = max(width, len(r.Scenario))
		if r.Child != nil {
			width = max(width, len(r.Child.Scenario)+2)
		}
	}
	for _, r := range rep.Results {
		writeResultText(w, rep, &r, r.Scenario, width)
		if r.Child != nil {
			// A child is part of its parent: shown, not counted.
			writeResultText(w, rep, r.Child, "  "+r.Child.Scenario, width)
		}
	}
	if rep.GuestStderr != "" {
		fmt.Fprintf(w, "guest ended abnormally (exit %d):\n%s\n", rep.GuestExit, strings.TrimSpace(rep.GuestStderr))
	}
	n := rep.Counts
	fmt.Fprintf(w, "%d passed, %d failed", n.Pass, n.Fail)
	if n.Unsupported > 0 {
		fmt.Fprintf(w, ", %d unsupported", n.Unsupported)
	}
	if n.Error > 0 {
		fmt.Fprintf(w, ", %d errors", n.Error)
	}
	fmt.Fprintln(w)
}

// writeResultText writes one scenario's line, and for a failure its
// explanation and, against an outside server, the client's last syscalls
// and what NetBSD does there.
func writeResultText(w io.Writer, rep *rig.Report, r *rig.Result, name string, width int) {
	status := strings.ToUpper(string(r.Status))
	if r.Status == guestapi.Unsupported {
		status = "SKIP"
	}
	if r.Status == guestapi.Pass {
		fmt.Fprintf(w, "%-4s  %-*s  %d checks, %.1f ms\n", status, width, name, r.Checks, r.Millis)
		return
	}
	what := r.Detail
	if r.Layer != "" {
		what = string(r.Layer) + ": " + what
	}
	fmt.Fprintf(w, "%-4s  %-*s  %s\n", status, width, name, what)
	indent := strings.Repeat(" ", 6+width+2)
	if r.Explanation != "" {
		fmt.Fprintf(w, "%s%s\n", indent, r.Explanation)
	}
	if r.Status == guestapi.Fail && rep.URL != "" {
		for _, l := range r.Trace {
			fmt.Fprintf(w, "%s| %s\n", indent, l)
		}
		if h := rig.NetBSDHint(r.Scenario); h != "" {
			fmt.Fprintf(w, "%sNetBSD: %s\n", indent, h)
		}
	}
}

// scenarioInfo is one scenario as `sprig run --list` shows it.
type scenarioInfo struct {
	Name        string   `json:"name"`
	Summary     string   `json:"summary"`
	Syscalls    []string `json:"syscalls"`
	Needs       string   `json:"needs,omitempty"`
	Destructive bool     `json:"destructive,omitempty"`
	ChildOf     string   `json:"child_of,omitempty"`
	NetBSD      string   `json:"netbsd"`
}

// scenarioList is the manifest as `sprig run --list` shows it.
func scenarioList() []scenarioInfo {
	parent := map[string]string{}
	for _, s := range guestapi.Manifest() {
		if s.Child != "" {
			parent[s.Child] = s.Name
		}
	}
	var out []scenarioInfo
	for _, s := range guestapi.Manifest() {
		x := scenarioInfo{Name: s.Name, Summary: s.Summary, Needs: s.Needs, Destructive: s.Destructive, ChildOf: parent[s.Name], NetBSD: s.NetBSD}
		for _, n := range s.Syscalls {
			x.Syscalls = append(x.Syscalls, n.String())
		}
		out = append(out, x)
	}
	return out
}

func writeScenarioList(w io.Writer) {
	tw := newTable(w)
	for _, s := range scenarioList() {
		note := ""
		switch {
		case s.ChildOf != "":
			note = " (runs as part of " + s.ChildOf + ")"
		case s.Destructive:
			note = " (destructive: only with --destructive against --server)"
		}
		fmt.Fprintf(tw, "%s\t%s%s\n", s.Name, s.Summary, note)
	}
	tw.Flush()
}

func writeScenarioMarkdown(w io.Writer) {
	fmt.Fprintln(w, "| scenario | checks | syscalls | NetBSD's rump_server |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, s := range scenarioList() {
		name := "`" + s.Name + "`"
		switch {
		case s.ChildOf != "":
			name += " (run by `" + s.ChildOf + "`)"
		case s.Destructive:
			name += " (destructive)"
		}
		calls := strings.Join(s.Syscalls, ", ")
		if s.Needs != "" {
			calls += "; sprig's `" + s.Needs + "` extension"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, s.Summary, calls, s.NetBSD)
	}
}

// newRig compiles the guest, saying so first when the compilation cache
// is cold (the first run takes seconds) and warning when the cache
// directory cannot be used.
func newRig(ctx context.Context, opts rig.Options, stderr io.Writer) (*rig.Rig, error) {
	if opts.CacheDir != "-" {
		dir := opts.CacheDir
		if dir == "" {
			dir = rig.DefaultCacheDir()
		}
		if err := checkCacheDir(dir); err != nil {
			fmt.Fprintf(stderr, "sprig: warning: compilation cache %s is unusable (%v); compiling the guest without one\n", dir, err)
			opts.CacheDir = "-"
		} else if empty(dir) {
			fmt.Fprintf(stderr, "sprig: compiling the guest (first run only; cached in %s)…\n", dir)
		}
	} else {
		fmt.Fprintln(stderr, "sprig: compiling the guest (no cache)…")
	}
	return rig.New(ctx, opts)
}

// checkCacheDir makes dir if needed and checks a file can be written in it.
func checkCacheDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return checkWritable(filepath.Join(dir, "probe"))
}

func empty(dir string) bool {
	ents, err := os.ReadDir(dir)
	return err == nil && len(ents) == 0
}
