package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/scenario"
	"github.com/rumpsprig/sprig/rig/bench"
	"github.com/rumpsprig/sprig/sp"
)

var benchDoc = doc{
	path: "sprig bench",
	usage: "  sprig bench [--server URL [--server-abi ABI]] [--calls N] [--runs K] [--clients N,...]\n" +
		"              [--only NAME,...] [--format text|json] [--profile DIR] [--cache-dir DIR]\n",
	details: `Measures sprig's sysproxy round trips next to their floor and prints them
side by side. The floor is the same bytes between two processes over a unix
socket with nothing but blocking read(2) and write(2) on either side, as in
a C ping-pong (one write per turn of the exchange; for many clients at once
its connections wait in Go's netpoller instead); its second process is this sprig binary re-executed with
` + bench.EnvChild + `=peer. The clients are sprig's Go client and the
WebAssembly guest (under wazero, as sprig run runs it), both in this
process; the server is a sprig serve that bench starts in a process of its
own (this binary again), or the server at --server. Where the server offers
preloaded copyin (a sprig server's banner says preload=N), the operations
that copy in run once more by a Go client that sends what they copy in with
the syscall, and the copy pair is judged for it too. Each syscall operation
also runs on Go's floor: the same bytes with both ends using Go's
net.Conn, as a Go program does, so that a ratio to the floor splits into
Go's runtime's part and sprig's own (native ÷go floor).

Measured: getpid (the null syscall); pairs/N for N = 1, 2, 4, 8, Kantee's
figure of copyin+copyout pairs of 64 bytes, as a getpid and N × (pwrite
64 B, one COPYIN round trip, + pread 64 B, one COPYOUT), since NetBSD has
no syscall that copies N times; pread and pwrite of 64 B and 64 KiB;
1, 16, 64 and 256 concurrent clients calling getpid, each on its own
connection and process (throughput, p50 and p99 latency); pread and pwrite
of 1 MiB in one syscall (bandwidth). Each figure is the median of K runs
with [min–max], and a ratio to the floor of its own bytes measured in the
same run; within a run the floors', native and wasm measurements of an
operation follow each other, their order rotating from run to run. Every
reply is checked (pids, byte counts, the bytes read back).

Flags:
  --server URL      time the clients against this sysproxy server (NetBSD's
                    rump_server, say) instead of a sprig serve of bench's own;
                    the floor still runs locally
  --server-abi ABI  the server's ABI when its banner cannot say
  --calls N         syscalls per measurement (default 2000); an operation of
                    s syscalls runs N/s times, moving at most N×4 KiB
  --runs K          runs (default 5)
  --clients LIST    numbers of concurrent clients (default 1,16,64,256)
  --only LIST       only these operations (getpid, pairs/1, pread/64, ...)
                    and groups (clients, bulk)
  --format FORMAT   text (default) or json (docs/bench-json.md)
  --profile DIR     have the started server write CPU and allocation
                    profiles (cpu.pprof, allocs.pprof) to DIR when it exits
  --cache-dir DIR   wazero compilation cache (as for sprig run)

Progress goes to stderr when it is a terminal. The machine's other load
shows in the [min–max] spread: compare ratios, not microseconds. On a
virtual machine a wakeup that crosses CPUs can cost more than the rest of
a round trip, and sprig's path has more cross-thread hand-offs than the
floor's; 'taskset -c 0 sprig bench' (the children inherit the CPU) shows
the costs without them.
`,
}

func benchCommand() *command {
	return &command{name: "bench", summary: "measure sysproxy round trips against the socket's floor", doc: benchDoc, run: runBench}
}

// A re-executed sprig is one of the bench's child processes; it plays its
// role before anything else runs (this works for a test binary too).
func init() {
	switch os.Getenv(bench.EnvChild) {
	case bench.RolePeer:
		os.Exit(bench.RunPeer())
	case bench.RoleServe:
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
}

type intList []int

func (l *intList) String() string {
	var s []string
	for _, n := range *l {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive number", p)
		}
		*l = append(*l, n)
	}
	return nil
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := bench.DefaultConfig()
	fs := newFlagSet(benchDoc.path)
	fs.StringVar(&cfg.Server, "server", "", "")
	serverABI := fs.String("server-abi", "", "")
	fs.IntVar(&cfg.Calls, "calls", cfg.Calls, "")
	fs.IntVar(&cfg.Runs, "runs", cfg.Runs, "")
	clients := intList(cfg.Clients)
	fs.Var(&clients, "clients", "")
	var only stringList
	fs.Var(&only, "only", "")
	f := formatText
	fs.Var(formatFlag(&f, formatText, formatJSON), "format", "")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "")
	pos, done, code := parseFlags(fs, args, benchDoc, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return benchDoc.usageError(stderr, "unexpected argument %q", pos[0])
	}
	cfg.Clients, cfg.Only = clients, only
	switch {
	case cfg.Calls < 10:
		return benchDoc.usageError(stderr, "--calls must be at least 10")
	case cfg.Runs < 1:
		return benchDoc.usageError(stderr, "--runs must be at least 1")
	case cfg.ProfileDir != "" && cfg.Server != "":
		return benchDoc.usageError(stderr, "--profile profiles the server bench starts; with --server there is none")
	case *serverABI != "" && cfg.Server == "":
		return benchDoc.usageError(stderr, "--server-abi needs --server")
	}
	for _, o := range only {
		if _, ok := scenario.LookupBenchOp(o); !ok && o != bench.GroupClients && o != bench.GroupBulk {
			var names []string
			for _, op := range scenario.BenchOps() {
				names = append(names, op.Name)
			}
			return benchDoc.usageError(stderr, "--only: no operation or group %q (operations: %s; groups: %s, %s)",
				o, strings.Join(names, ", "), bench.GroupClients, bench.GroupBulk)
		}
	}
	if cfg.Server != "" {
		if _, err := sp.ParseURL(cfg.Server); err != nil {
			return benchDoc.usageError(stderr, "--server: %v", err)
		}
	}
	if *serverABI != "" {
		d, err := abi.Resolve(*serverABI)
		if err != nil {
			return benchDoc.badName(stderr, err)
		}
		cfg.ServerABI = d
	}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return benchDoc.failure(stderr, err)
		}
	}
	if isTerminal(stderr) {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return benchDoc.failure(stderr, err)
	}
	rep.Sprig = moduleVersion()
	var b bytes.Buffer
	if f == formatJSON {
		err = writeJSON(&b, rep)
	} else {
		err = rep.WriteText(&b)
	}
	if err != nil {
		return benchDoc.failure(stderr, err)
	}
	return benchDoc.output(stdout, stderr, &b)
}
