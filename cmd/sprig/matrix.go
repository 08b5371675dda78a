package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/emu"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/rig/matrix"
)

var matrixDoc = doc{
	path: "sprig matrix",
	usage: "  sprig matrix [--abis ABI,...] [--modes MODE,...] [--scenario NAME ...]\n" +
		"               [--format text|json|junit|markdown] [--out FILE] [--shard I/N]\n" +
		"               [--jobs N] [--timeout D] [--cache-dir DIR] [--guest FILE.wasm] [--predict]\n" +
		"               [--server URL [--server-abi ABI] [--destructive]] [--emulated [--emulated-targets T,...]]\n" +
		"  sprig matrix --list [--shards N | --shard I/N] [--format text|json] [--abis ...] [--modes ...]\n" +
		"  sprig matrix merge [--format text|json|junit|markdown] [--out FILE] REPORT.json...\n",
	details: `Runs sprig's guest client of every ABI against an in-process sprig server
of every ABI, in every cross-ABI mode, all cells in parallel with one
compiled guest, and checks each scenario's outcome against the prediction
computed from the ABI descriptors alone. The text report has a client ×
server table per mode (cells such as 17/17 or 10/17; ! marks a cell whose
outcome differs from the prediction) and the verdict on the C code's
claim that client and server must share an ABI. A progress line appears
on stderr when it is a terminal; colours follow NO_COLOR.

Flags:
  --abis ABI,...        ABIs to pair, names, aliases or JSON descriptor
                        files (default: ` + strings.Join(matrix.DefaultABINames, ",") + `)
  --modes MODE,...      native, server-translates, client-translates,
                        proxy (default: the first three)
  --scenario NAME       run only this scenario in every cell; repeat or
                        separate with commas (default: all)
  --format FORMAT       text (default), json (docs/matrix-json.md),
                        junit (a testcase fails when the outcome differs
                        from the prediction) or markdown (tables and
                        verdict, no timings: for a README or
                        $GITHUB_STEP_SUMMARY)
  --out FILE            write the report to FILE and a one-line summary
                        to stdout (with --list: the list, nothing else)
  --shard I/N           run only shard I of N (every Nth cell from the
                        Ith), for spreading a matrix over machines
  --jobs N              cells run at once (default: 4 per CPU, at most 32)
  --timeout D           per-scenario timeout (default 10s)
  --cache-dir DIR       wazero compilation cache (as for sprig run)
  --guest FILE.wasm     run your own guest (as for sprig run)
  --predict             print the prediction without running anything
  --server URL          run every client ABI in every mode against this
                        outside server (rump_server, another sprig serve,
                        your own) instead of in-process servers of every
                        ABI: one column of the matrix. Its ABI comes from
                        its banner; default modes native and
                        client-translates, and server-translates when the
                        banner is a sprig server's. Unsupported results
                        (calls it lacks) judge nothing.
  --server-abi ABI      the outside server's ABI, when its banner's machine
                        word names several
  --destructive         with --server: also run the scenarios that can harm
                        a real server (efault)
  --emulated            add the emulated column: sprig's C reference client
                        and Go scenario runner built for real machines
                        (Debian cross compilers, Go) and run under
                        qemu-user in every cell whose client ABI and mode
                        they cover; judged against the same predictions
  --emulated-targets T,...
                        only these programs: c (every C client), go
                        (every Go runner) or names from
` + flagText(strings.Join(emu.Names(), ", ")) + `
  --list                print the cells instead of running them
  --shards N            with --list: group the cells into N shards

'sprig matrix --list --format json' prints {"include": [...]} for a
GitHub Actions strategy.matrix (fromJSON): one entry per cell, or with
--shards N one per shard, each with a "shard" value to pass back as
--shard. 'sprig matrix merge' joins the JSON reports of the shards into
one report and fails when a cell is missing or present twice.

A result is pass, fail, unsupported or error. An error is the
environment's: the scenario's deadline passed on a loaded machine, the
run was cancelled. It judges nothing, is never a disagreement, and a cell
with errors runs those scenarios once more before reporting them. Every
deadline inside the guest derives from --timeout.

Exit status: 0 when every outcome equals its prediction (and, for merge,
no cell is missing); 1 when some outcome disagrees with its prediction
or a cell is missing (a bug in sprig or in the theory); 3 when nothing
disagrees but some scenario ended in an error (a busy machine: rerun, or
raise --timeout); 130 when interrupted (SIGINT), after writing the report
of the cells that finished; 2 for a usage error.
`,
}

func matrixCommand() *command {
	return &command{name: "matrix", summary: "run every ABI pair in every mode and check it against the layout theory", doc: matrixDoc, run: runMatrix,
		subs: []*command{{name: "merge", summary: "join the JSON reports of a matrix's shards into one report", doc: matrixMergeDoc, run: runMatrixMerge}}}
}

// matrixFormat is the value of the matrix --format flag.
type matrixFormat string

const (
	matrixText     matrixFormat = "text"
	matrixJSON     matrixFormat = "json"
	matrixJUnit    matrixFormat = "junit"
	matrixMarkdown matrixFormat = "markdown"
)

func (f *matrixFormat) String() string { return string(*f) }

func (f *matrixFormat) Set(s string) error {
	switch matrixFormat(s) {
	case matrixText, matrixJSON, matrixJUnit, matrixMarkdown:
		*f = matrixFormat(s)
		return nil
	}
	return errors.New("want text, json, junit or markdown")
}

// commaList is a flag holding a comma-separated list; repeating the flag
// adds to it.
type commaList []string

func (l *commaList) String() string { return strings.Join(*l, ",") }

func (l *commaList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// matrixFlags are the values of sprig matrix's flags.
type matrixFlags struct {
	abis, modes, scenarios commaList
	format                 matrixFormat
	out, shard             string
	shards, jobs           int
	list, predict, emulate bool
	server, serverABI      string
	destructive            bool
	emulatedTargets        commaList
	timeout                time.Duration
	cacheDir, guest        string
}

// newMatrixFlags defines sprig matrix's flags.
func newMatrixFlags() (*flag.FlagSet, *matrixFlags) {
	fs := newFlagSet(matrixDoc.path)
	v := &matrixFlags{format: matrixText}
	fs.Var(&v.abis, "abis", "")
	fs.Var(&v.modes, "modes", "")
	fs.Var(&v.scenarios, "scenario", "")
	fs.Var(&v.format, "format", "")
	fs.StringVar(&v.out, "out", "", "")
	fs.StringVar(&v.shard, "shard", "", "")
	fs.IntVar(&v.shards, "shards", 0, "")
	fs.BoolVar(&v.list, "list", false, "")
	fs.IntVar(&v.jobs, "jobs", 0, "")
	fs.DurationVar(&v.timeout, "timeout", 10*time.Second, "")
	fs.StringVar(&v.cacheDir, "cache-dir", "", "")
	fs.StringVar(&v.guest, "guest", "", "")
	fs.BoolVar(&v.predict, "predict", false, "")
	fs.StringVar(&v.server, "server", "", "")
	fs.StringVar(&v.serverABI, "server-abi", "", "")
	fs.BoolVar(&v.destructive, "destructive", false, "")
	fs.BoolVar(&v.emulate, "emulated", false, "")
	fs.Var(&v.emulatedTargets, "emulated-targets", "")
	return fs, v
}

func runMatrix(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, v := newMatrixFlags()
	pos, done, code := parseFlags(fs, args, matrixDoc, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return matrixDoc.usageError(stderr, "unexpected argument %q", pos[0])
	}
	cfg, code := v.config(stderr)
	if code != exitOK {
		return code
	}
	if v.server != "" {
		// The server's banner says its ABI and the modes it can take,
		// which the cells and the prediction need.
		if err := cfg.ResolveServer(ctx); err != nil {
			return matrixDoc.failure(stderr, err)
		}
	}
	if v.list {
		var b bytes.Buffer
		if err := writeMatrixList(&b, &cfg, v.shards, v.format); err != nil {
			return matrixDoc.usageError(stderr, "%v", err)
		}
		if v.out != "" {
			if err := os.WriteFile(v.out, b.Bytes(), 0o644); err != nil {
				return matrixDoc.failure(stderr, err)
			}
			return exitOK
		}
		return matrixDoc.output(stdout, stderr, &b)
	}

	if v.out != "" {
		// Find out now, not after a minute of running, that the report
		// cannot be written.
		if err := checkWritable(v.out); err != nil {
			return matrixDoc.usageError(stderr, "--out: %v", err)
		}
	}
	var rep *matrix.Report
	var err error
	if v.predict {
		rep, err = matrix.Predicted(cfg)
	} else {
		rep, err = runMatrixCells(ctx, cfg, v, stderr)
	}
	if err != nil && rep == nil {
		return matrixDoc.failure(stderr, err)
	}
	if code := writeMatrixReport(rep, v.format, v.out, stdout, stderr); code != exitOK {
		return code
	}
	if rep.Interrupted {
		fmt.Fprintf(stderr, "%s: %v; the report holds the cells that finished\n", matrixDoc.path, err)
		return exitInterrupted
	}
	return matrixExit(rep)
}

// matrixExit is the exit status a finished report calls for.
func matrixExit(rep *matrix.Report) int {
	switch {
	case rep.Disagrees():
		return exitFail
	case rep.Summary.Errors > 0:
		return exitError
	}
	return exitOK
}

// checkWritable reports whether a file can be created at path, without
// leaving one behind.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".sprig-out-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// config checks the flags and turns them into a matrix configuration;
// a code other than exitOK means a usage error was printed.
func (v *matrixFlags) config(stderr io.Writer) (matrix.Config, int) {
	cfg := matrix.DefaultConfig()
	cfg.SprigVersion = moduleVersion()
	cfg.Workers = v.jobs
	cfg.Timeout = v.timeout
	cfg.Scenarios = v.scenarios
	if len(v.abis) > 0 {
		cfg.ABIs = nil
		seen := map[string]bool{}
		for _, n := range v.abis {
			d, err := abi.Resolve(n)
			if err != nil {
				return cfg, matrixDoc.badName(stderr, err)
			}
			if seen[d.Name] {
				return cfg, matrixDoc.usageError(stderr, "--abis names %s twice", d.Name)
			}
			seen[d.Name] = true
			cfg.ABIs = append(cfg.ABIs, d)
		}
	}
	if len(v.modes) > 0 {
		cfg.Modes = nil
		for _, n := range v.modes {
			m, err := rig.ParseMode(n)
			if err != nil {
				return cfg, matrixDoc.usageError(stderr, "--modes: %v", err)
			}
			cfg.Modes = append(cfg.Modes, m)
		}
	}
	if v.shard != "" {
		sh, err := matrix.ParseShard(v.shard)
		if err != nil {
			return cfg, matrixDoc.usageError(stderr, "--shard: %v", err)
		}
		cfg.Shard = sh
	}
	switch {
	case v.jobs < 0:
		return cfg, matrixDoc.usageError(stderr, "--jobs must not be negative")
	case v.timeout <= 0:
		return cfg, matrixDoc.usageError(stderr, "--timeout must be positive")
	case v.shards < 0:
		return cfg, matrixDoc.usageError(stderr, "--shards must be positive")
	case v.shards > 0 && !v.list:
		return cfg, matrixDoc.usageError(stderr, "--shards goes with --list; to run one shard use --shard I/N")
	case v.shards > 0 && v.shard != "":
		return cfg, matrixDoc.usageError(stderr, "--shards and --shard cannot be used together")
	case v.list && (v.format == matrixJUnit || v.format == matrixMarkdown):
		return cfg, matrixDoc.usageError(stderr, "--list prints text or json")
	case v.list && v.predict:
		return cfg, matrixDoc.usageError(stderr, "--list and --predict cannot be used together")
	case v.predict && v.guest != "":
		return cfg, matrixDoc.usageError(stderr, "--predict runs no guest; --guest makes no sense with it")
	case len(v.emulatedTargets) > 0 && !v.emulate:
		return cfg, matrixDoc.usageError(stderr, "--emulated-targets goes with --emulated")
	case v.emulate && (v.predict || v.list):
		return cfg, matrixDoc.usageError(stderr, "--emulated runs programs; it makes no sense with --predict or --list")
	}
	if v.emulate {
		cfg.Emulated = &matrix.Emulation{Targets: v.emulatedTargets, Build: emu.DefaultBuildConfig()}
	}
	switch {
	case v.server == "" && (v.serverABI != "" || v.destructive):
		return cfg, matrixDoc.usageError(stderr, "--server-abi and --destructive go with --server")
	case v.server != "":
		cfg.Server, cfg.Destructive = v.server, v.destructive
		if v.serverABI != "" {
			d, err := abi.Resolve(v.serverABI)
			if err != nil {
				return cfg, matrixDoc.badName(stderr, err)
			}
			cfg.ServerABI = d
		}
		if len(v.modes) == 0 {
			cfg.Modes = nil // what the server can take, from its banner
		}
	}
	if err := cfg.Validate(); err != nil {
		if errors.Is(err, matrix.ErrUnknownScenario) {
			return cfg, matrixDoc.badName(stderr, err)
		}
		return cfg, matrixDoc.usageError(stderr, "%v", err)
	}
	return cfg, exitOK
}

// runMatrixCells compiles the guest once and runs the cells, with a
// progress line on a terminal.
func runMatrixCells(ctx context.Context, cfg matrix.Config, v *matrixFlags, stderr io.Writer) (*matrix.Report, error) {
	opts := rig.Options{CacheDir: v.cacheDir}
	if v.guest != "" {
		var err error
		if opts.Guest, err = os.ReadFile(v.guest); err != nil {
			return nil, err
		}
	}
	r, err := newRig(ctx, opts, stderr)
	if err != nil {
		return nil, err
	}
	defer r.Close(context.Background())
	if cfg.Emulated != nil {
		fmt.Fprintf(stderr, "emulated column: building its programs (cached in %s; a first build of every program takes minutes)\n", cfg.Emulated.Build.CacheDir)
	}
	if isTerminal(stderr) {
		p := &progressLine{w: stderr, color: wantColor(stderr)}
		cfg.Progress = p.update
		defer p.clear()
	} else {
		// A CI log gets a line per cell as it finishes, not a minute of
		// silence and then everything.
		p := &progressLog{w: stderr, start: time.Now()}
		cfg.Progress = p.update
	}
	return matrix.Run(ctx, r, cfg)
}

// progressLog writes one line per finished cell, for logs.
type progressLog struct {
	w     io.Writer
	start time.Time
}

func (p *progressLog) update(pr matrix.Progress) {
	c := pr.Cell
	note := ""
	if c.Disagreements > 0 {
		note = fmt.Sprintf(", %d DISAGREE", c.Disagreements)
	}
	if c.Errors > 0 {
		note += fmt.Sprintf(", %d errors", c.Errors)
	}
	note += emulatedNote(c)
	fmt.Fprintf(p.w, "[%*d/%d %5.1fs] %s %s→%s %d/%d%s (total: %d disagreements, %d errors)\n",
		len(fmt.Sprint(pr.Total)), pr.Done, pr.Total, time.Since(p.start).Seconds(),
		c.Mode, c.Client, c.Server, c.Passed, len(c.Results), note, pr.Disagreements, pr.Errors)
}

// progressLine keeps one updating line on a terminal.
type progressLine struct {
	w     io.Writer
	color bool
}

func (p *progressLine) update(pr matrix.Progress) {
	c := pr.Cell
	d := fmt.Sprintf("%d disagreements", pr.Disagreements)
	if p.color && pr.Disagreements > 0 {
		d = "\x1b[1;31m" + d + "\x1b[0m"
	}
	if pr.Errors > 0 {
		d += fmt.Sprintf(", %d errors", pr.Errors)
	}
	fmt.Fprintf(p.w, "\r\x1b[K[%*d/%d] %s %s→%s %d/%d%s, %s", len(fmt.Sprint(pr.Total)), pr.Done, pr.Total,
		c.Mode, c.Client, c.Server, c.Passed, len(c.Results), emulatedNote(c), d)
}

// emulatedNote names the programs of the emulated column that ran in c.
func emulatedNote(c *matrix.Cell) string {
	if len(c.Emulated) == 0 {
		return ""
	}
	var names []string
	for _, e := range c.Emulated {
		names = append(names, e.Target)
	}
	return " + emulated " + strings.Join(names, ",")
}

func (p *progressLine) clear() { fmt.Fprint(p.w, "\r\x1b[K") }

// writeMatrixReport renders rep in format f to stdout, or to the file
// out with a one-line summary on stdout.
func writeMatrixReport(rep *matrix.Report, f matrixFormat, out string, stdout, stderr io.Writer) int {
	var b bytes.Buffer
	var err error
	switch f {
	case matrixJSON:
		err = rep.WriteJSON(&b)
	case matrixJUnit:
		err = rep.WriteJUnit(&b)
	case matrixMarkdown:
		err = rep.WriteMarkdown(&b)
	default:
		err = rep.WriteText(&b, matrix.TextOptions{Color: out == "" && wantColor(stdout)})
	}
	if err != nil {
		return matrixDoc.failure(stderr, err)
	}
	if out == "" {
		return matrixDoc.output(stdout, stderr, &b)
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return matrixDoc.failure(stderr, err)
	}
	status := fmt.Sprintf("observed = predicted in all %d results", rep.Summary.Results)
	if !rep.OK() {
		status = fmt.Sprintf("%d disagreements, %d errors, %d cells missing", rep.Summary.Disagreements, rep.Summary.Errors, len(rep.Summary.MissingCells))
	}
	if rep.Interrupted {
		status += " (interrupted: partial)"
	}
	fmt.Fprintf(stdout, "wrote the %s report to %s: %d cells, %s\n", f, out, rep.Summary.Cells, status)
	return exitOK
}

// listEntry is one element of --list --format json's "include" array.
type listEntry struct {
	Shard  string `json:"shard"`
	Cells  int    `json:"cells,omitempty"`
	Mode   string `json:"mode,omitempty"`
	Client string `json:"client,omitempty"`
	Server string `json:"server,omitempty"`
}

// writeMatrixList prints the cells the configuration runs: one per line
// or entry, each with the shard that runs it, or with shards > 0 one
// line or entry per shard.
func writeMatrixList(w io.Writer, cfg *matrix.Config, shards int, f matrixFormat) error {
	all := cfg.Cells()
	var entries []listEntry
	switch {
	case shards > 0:
		if shards > len(all) {
			return fmt.Errorf("--shards %d: the matrix has only %d cells", shards, len(all))
		}
		for _, sh := range matrix.Shards(shards) {
			entries = append(entries, listEntry{Shard: sh.String(), Cells: len(sh.Select(all))})
		}
	case cfg.Shard != (matrix.Shard{}):
		for _, k := range cfg.ShardCells() {
			entries = append(entries, listEntry{Shard: cfg.Shard.String(), Mode: k.Mode.String(), Client: k.Client.Name, Server: k.Server.Name})
		}
	default:
		// One shard per cell: shard i of len(all) is cell i.
		for i, k := range all {
			entries = append(entries, listEntry{Shard: fmt.Sprintf("%d/%d", i+1, len(all)), Mode: k.Mode.String(), Client: k.Client.Name, Server: k.Server.Name})
		}
	}
	if f == matrixJSON {
		enc := json.NewEncoder(w)
		return enc.Encode(struct {
			Include []listEntry `json:"include"`
		}{entries})
	}
	tw := newTable(w)
	for _, e := range entries {
		if e.Mode == "" {
			fmt.Fprintf(tw, "%s\t%d cells\n", e.Shard, e.Cells)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Shard, e.Mode, e.Client, e.Server)
		}
	}
	return tw.Flush()
}

var matrixMergeDoc = doc{
	path:  "sprig matrix merge",
	usage: "  sprig matrix merge [--format text|json|junit|markdown] [--out FILE] REPORT.json...\n",
	details: `Joins the JSON reports of 'sprig matrix --shard I/N --format json' into
one report of the whole matrix and prints it in the chosen format (text
by default). The reports must share their ABIs, modes and scenarios; a
cell in two reports is an error, and a cell in none makes the merged
report fail.

Flags:
  --format FORMAT       text (default), json, junit or markdown, as for
                        sprig matrix
  --out FILE            write the merged report to FILE and a one-line
                        summary to stdout

Exit status: 0 when every outcome equals its prediction and no cell is
missing, 1 otherwise or when a report cannot be read, 2 for a usage error.
`,
}

// newMergeFlags defines sprig matrix merge's flags.
func newMergeFlags() (*flag.FlagSet, *matrixFormat, *string) {
	fs := newFlagSet(matrixMergeDoc.path)
	f := matrixText
	fs.Var(&f, "format", "")
	out := fs.String("out", "", "")
	return fs, &f, out
}

func runMatrixMerge(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs, fp, out := newMergeFlags()
	files, done, code := parseFlags(fs, args, matrixMergeDoc, stdout, stderr)
	f := *fp
	if done {
		return code
	}
	if len(files) == 0 {
		return matrixMergeDoc.usageError(stderr, "missing REPORT.json")
	}
	var reports []*matrix.Report
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			return matrixMergeDoc.failure(stderr, err)
		}
		rep, err := matrix.ReadJSON(fh)
		fh.Close()
		if err != nil {
			return matrixMergeDoc.failure(stderr, fmt.Errorf("%s: %w", name, err))
		}
		rep.Source = name
		reports = append(reports, rep)
	}
	rep, err := matrix.Merge(reports...)
	if err != nil {
		return matrixMergeDoc.failure(stderr, err)
	}
	if code := writeMatrixReport(rep, f, *out, stdout, stderr); code != exitOK {
		return code
	}
	return matrixExit(rep)
}

// isTerminal reports whether w is a terminal. A character device is
// taken for one, which is what a terminal is to os.Stat.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

// wantColor reports whether to colour output to w: a terminal, and
// NO_COLOR unset or empty (https://no-color.org).
func wantColor(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == ""
}
