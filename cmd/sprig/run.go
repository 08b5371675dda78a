package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/sp"
)

var runDoc = doc{
	path: "sprig run",
	usage: "  sprig run --abi ABI [--server-abi ABI] [--mode MODE] [--scenario NAME ...]\n" +
		"            [--format text|json] [--trace] [--guest FILE.wasm] [--cache-dir DIR]\n",
	details: `Runs sprig's guest client of one ABI against an in-process sprig server of
another, with sprig's simulated NetBSD kernel behind it, and prints one
line per scenario, then "N passed, N failed" (", N skipped" when scenarios
were unsupported). A failure names the layer that broke (framing, reply
decoding, data, timeout, disconnect) and the first wrong field as each
side laid it out.

Flags:
  --abi ABI            the client's ABI: a name, an alias or a JSON
                       descriptor file (required)
  --server-abi ABI     the server's ABI (default: this host's, ` + hostABIName() + `)
  --mode MODE          native (default), server-translates or
                       client-translates
  --version V          protocol era, 0.1 or 0.4 (default 0.4)
  --scenario NAME      run only this scenario; repeat for more
  --format text|json   output format (default text)
  --trace              print every syscall the server runs, strace style
  --guest FILE.wasm    run your own guest (see guest/README.md)
  --cache-dir DIR      wazero compilation cache (default $SPRIG_CACHE_DIR
                       or the user cache directory; "-" disables it)
  --timeout D          per-scenario timeout (default 10s)
  --address-bias N     added to the guest's addresses when the wire pointer
                       is 8 bytes wide, so any truncation to 32 bits shows
                       (default and 0: 0x5a5a00000000)

Exit status: 0 when every scenario passed, 1 when any failed, 2 for a
usage error.
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

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(runDoc.path, flag.ContinueOnError)
	clientName := fs.String("abi", "", "")
	serverName := fs.String("server-abi", hostABIName(), "")
	modeName := fs.String("mode", "native", "")
	version := fs.String("version", "0.4", "")
	var scenarios stringList
	fs.Var(&scenarios, "scenario", "")
	f := formatText
	fs.Var(&f, "format", "")
	trace := fs.Bool("trace", false, "")
	guestFile := fs.String("guest", "", "")
	cacheDir := fs.String("cache-dir", "", "")
	timeout := fs.Duration("timeout", 10*time.Second, "")
	bias := fs.Uint64("address-bias", rig.DefaultAddressBias, "")
	pos, done, code := parseFlags(fs, args, runDoc, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return runDoc.usageError(stderr, "unexpected argument %q", pos[0])
	}
	if *clientName == "" {
		return runDoc.usageError(stderr, "--abi is required")
	}
	client, err := abi.Resolve(*clientName)
	if err != nil {
		return runDoc.badName(stderr, err)
	}
	server, err := abi.Resolve(*serverName)
	if err != nil {
		return runDoc.badName(stderr, err)
	}
	mode, err := sp.ParseMode(*modeName)
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
	opts := rig.Options{CacheDir: *cacheDir}
	if *guestFile != "" {
		if opts.Guest, err = os.ReadFile(*guestFile); err != nil {
			return runDoc.failure(stderr, err)
		}
	}
	r, err := rig.New(ctx, opts)
	if err != nil {
		return runDoc.failure(stderr, err)
	}
	defer r.Close(context.Background())

	pair := rig.Pair{Client: client, Server: server, Mode: mode, Version: v, Scenarios: scenarios, Timeout: *timeout, AddressBias: *bias}
	traceOut := stdout
	if f == formatJSON {
		traceOut = stderr
	}
	if *trace {
		pair.Trace = rig.NewTracer(traceOut, client.Name).Frame
	}
	rep, err := r.Run(ctx, pair)
	if err != nil {
		return runDoc.failure(stderr, err)
	}
	if missing := missingScenarios(scenarios, rep); len(missing) > 0 {
		return runDoc.usageError(stderr, "no scenario named %s", strings.Join(missing, ", "))
	}
	var b bytes.Buffer
	if f == formatJSON {
		if err := writeJSON(&b, rep); err != nil {
			return runDoc.failure(stderr, err)
		}
	} else {
		writeRunText(&b, rep)
	}
	if code := runDoc.output(stdout, stderr, &b); code != exitOK {
		return code
	}
	if _, fail, _ := rep.Counts(); fail > 0 || rep.GuestExit != 0 && rep.GuestExit != 1 {
		return exitFail
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
	fmt.Fprintf(w, "%s client → %s server, %s, protocol %s\n", rep.Client, rep.Server, rep.Mode, rep.Version)
	width := 0
	for _, r := range rep.Results {
		width = max(width, len(r.Scenario))
	}
	for _, r := range rep.Results {
		status := strings.ToUpper(string(r.Status))
		if r.Status == guestapi.Pass {
			fmt.Fprintf(w, "%-4s  %-*s  %d checks, %.1f ms\n", status, width, r.Scenario, r.Checks, r.Millis)
			continue
		}
		what := r.Detail
		if r.Layer != "" {
			what = string(r.Layer) + ": " + what
		}
		fmt.Fprintf(w, "%-4s  %-*s  %s\n", status, width, r.Scenario, what)
		if r.Explanation != "" {
			fmt.Fprintf(w, "      %*s  %s\n", width, "", r.Explanation)
		}
	}
	if rep.GuestStderr != "" {
		fmt.Fprintf(w, "guest ended abnormally (exit %d):\n%s\n", rep.GuestExit, strings.TrimSpace(rep.GuestStderr))
	}
	pass, fail, skip := rep.Counts()
	fmt.Fprintf(w, "%d passed, %d failed", pass, fail)
	if skip > 0 {
		fmt.Fprintf(w, ", %d skipped", skip)
	}
	fmt.Fprintln(w)
}
