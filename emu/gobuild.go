package emu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
)

// The Go runner.

// modulePath is sprig's module, and runnerPackage the runner inside it.
const (
	modulePath    = "github.com/rumpsprig/sprig"
	runnerPackage = "./guest/native"
)

// goSettings are the go env values besides the sources that decide what
// a build produces: the toolchain, flags, experiments and each GOARCH's
// sub-architecture. GOVERSION comes first.
var goSettings = []string{"GOVERSION", "GOFLAGS", "GOEXPERIMENT", "GOROOT",
	"GO386", "GOAMD64", "GOARM", "GOARM64", "GOMIPS", "GOPPC64", "GORISCV64"}

// goBuildEnv is the environment of a cross build for t: static (no cgo,
// so no C toolchain), Linux, t's architecture.
func goBuildEnv(t Target) []string {
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+t.GOARCH)
	if t.GOARM != "" {
		env = append(env, "GOARM="+t.GOARM)
	}
	return env
}

func prepareGo(ctx context.Context, t Target, cfg BuildConfig, goTool string) (*recipe, error) {
	if t.GOARCH == "" {
		return nil, fmt.Errorf("emu: %s: a Go runner target needs a GOARCH", t.Name)
	}
	mod, err := findModule(ctx, cfg.ModuleDir, goTool)
	if err != nil {
		return nil, err
	}
	env := goBuildEnv(t)
	settings, err := goOutput(ctx, mod, env, goTool, slices.Concat([]string{"env", "-json"}, goSettings)...)
	if err != nil {
		return nil, fmt.Errorf("emu: %s: %w", t.Name, err)
	}
	var values map[string]string
	if err := json.Unmarshal(settings, &values); err != nil {
		return nil, fmt.Errorf("emu: %s: go env: %w", t.Name, err)
	}
	var key bytes.Buffer
	for _, s := range goSettings {
		fmt.Fprintf(&key, "%s=%s\x00", s, values[s])
	}
	args := []string{"build", "-trimpath", "-buildvcs=false"}
	if len(cfg.LinkerX) > 0 {
		var ld []string
		for _, x := range cfg.LinkerX {
			ld = append(ld, "-X", x)
		}
		args = append(args, "-ldflags", strings.Join(ld, " "))
	}
	fmt.Fprintf(&key, "%s\x00", strings.Join(args, "\x00"))
	if err := hashRunnerSources(ctx, &key, mod, env, goTool); err != nil {
		return nil, fmt.Errorf("emu: %s: %w", t.Name, err)
	}
	envShown := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + t.GOARCH}
	if t.GOARM != "" {
		envShown = append(envShown, "GOARM="+t.GOARM)
	}
	return &recipe{
		version: values["GOVERSION"],
		key:     key.Bytes(),
		display: slices.Concat(envShown, []string{"go"}, args, []string{"-o", "sprig-native", runnerPackage}),
		command: func(_, out string) []string {
			return slices.Concat([]string{goTool}, args, []string{"-o", out, runnerPackage})
		},
		dir: mod,
		env: env,
	}, nil
}

// hashRunnerSources writes into key every file of every non-standard
// package the runner is built from for env's GOARCH (go list -deps), by
// import path and contents, and the module's go.mod and go.sum. The
// standard library is the toolchain's, which GOVERSION and GOROOT name.
func hashRunnerSources(ctx context.Context, key io.Writer, mod string, env []string, goTool string) error {
	out, err := goOutput(ctx, mod, env, goTool, "list", "-deps", "-json=ImportPath,Dir,GoFiles,EmbedFiles,Standard", runnerPackage)
	if err != nil {
		return err
	}
	type pkg struct {
		ImportPath, Dir     string
		GoFiles, EmbedFiles []string
		Standard            bool
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	n := 0
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("go list: %w", err)
		}
		if p.Standard {
			continue
		}
		n++
		for _, f := range slices.Concat(p.GoFiles, p.EmbedFiles) {
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				return fmt.Errorf("hashing the runner's sources: %w", err)
			}
			fmt.Fprintf(key, "%s/%s\x00%d\x00", p.ImportPath, f, len(b))
			key.Write(b)
		}
	}
	if n == 0 {
		return fmt.Errorf("go list %s in %s found no packages", runnerPackage, mod)
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(mod, f))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		fmt.Fprintf(key, "%s\x00%d\x00", f, len(b))
		key.Write(b)
	}
	return nil
}

// goOutput runs the go tool in dir and returns its standard output; the
// error carries its standard error.
func goOutput(ctx context.Context, dir string, env []string, goTool string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// findModule returns the directory of sprig's module: dir when given,
// else this package's source directory's parent when it is on disk (a
// test, go run), else the module of the working directory.
func findModule(ctx context.Context, dir, goTool string) (string, error) {
	if dir != "" {
		if err := isSprigModule(dir); err != nil {
			return "", fmt.Errorf("emu: build config: ModuleDir: %w", err)
		}
		return dir, nil
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if d := filepath.Dir(filepath.Dir(file)); isSprigModule(d) == nil {
			return d, nil
		}
	}
	if out, err := exec.CommandContext(ctx, goTool, "env", "GOMOD").Output(); err == nil {
		gomod := strings.TrimSpace(string(out))
		if d := filepath.Dir(gomod); gomod != "" && gomod != os.DevNull && isSprigModule(d) == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("emu: the Go runner is built from %s's source, which is not here: run from inside it or set BuildConfig.ModuleDir", modulePath)
}

// isSprigModule checks that dir/go.mod declares sprig's module. The
// module directive is one line ("module PATH", PATH perhaps quoted), so
// it is read here rather than with a go.mod parser.
func isSprigModule(dir string) error {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			path, _, _ := strings.Cut(strings.TrimSpace(rest), "//")
			path = strings.TrimSpace(path)
			if unq, err := strconv.Unquote(path); err == nil {
				path = unq
			}
			if path != modulePath {
				return fmt.Errorf("%s is module %s, not %s", filepath.Join(dir, "go.mod"), path, modulePath)
			}
			return nil
		}
	}
	return fmt.Errorf("%s declares no module", filepath.Join(dir, "go.mod"))
}

func goArgs(t Target, cfg RunConfig, tmp *scratch) ([]string, error) {
	if cfg.PadFill != 0 {
		return nil, fmt.Errorf("emu: run config: PadFill is the C client's; the Go runner pads with sp.DefaultPadFill")
	}
	args := []string{"--url", cfg.URL, "--abi", t.abiName(), "--mode", cfg.Mode.String(),
		"--timeout-ms", strconv.FormatInt(cfg.Timeout.Milliseconds(), 10)}
	if cfg.Mode == sp.ModeClientTranslates && cfg.ServerABI != nil {
		name, err := descriptorArg(cfg.ServerABI, tmp)
		if err != nil {
			return nil, fmt.Errorf("emu: run config: ServerABI: %w", err)
		}
		args = append(args, "--server-abi", name)
	}
	if cfg.Version != "" {
		args = append(args, "--version", cfg.Version)
	}
	names := cfg.Scenarios
	if len(names) == 0 && !cfg.Destructive {
		// The runner runs everything it has unless told otherwise.
		for _, s := range guestapi.Manifest() {
			if !s.ChildOnly && !s.Destructive {
				names = append(names, s.Name)
			}
		}
	}
	if len(names) > 0 {
		args = append(args, "--scenario", strings.Join(names, ","))
	}
	return args, nil
}

// descriptorArg names d for the runner's ABI flags: its name when it is
// the registered descriptor of that name, else a JSON file of it.
func descriptorArg(d *abi.Descriptor, tmp *scratch) (string, error) {
	if r, err := abi.Lookup(d.Name); err == nil && r == d {
		return d.Name, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	return tmp.file("abi-"+strings.Map(safeRune, d.Name)+".json", b)
}

func safeRune(r rune) rune {
	if r == '/' || r == os.PathSeparator || r < ' ' {
		return '_'
	}
	return r
}

// goRunEnv turns off the Go runtime's asynchronous preemption under
// qemu-user, whose signal delivery to a goroutine interrupted at an
// arbitrary instruction is not reliable enough for it. On i386 it also
// keeps the runtime to one P: qemu-i386 shares one descriptor table
// among a process's threads (see ErrEmulator), so threads that set up
// their TLS at the same moment can swap it, and with more Ps the runtime
// starts more threads at once as it starts. That makes the race rarer,
// not impossible (sysmon and threads for blocking calls still start);
// the matrix runs a run the emulator failed again.
func goRunEnv(t Target) []string {
	if t.Native() {
		return nil
	}
	if t.GOARCH == "386" {
		return []string{"GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1"}
	}
	return []string{"GODEBUG=asyncpreemptoff=1"}
}
