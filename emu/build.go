package emu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrELF is matched by the error of a build whose binary is not for its
// target's machine (a wrong compiler on PATH, say).
var ErrELF = errors.New("emu: binary is not for its target")

// BuildConfig configures Build. Start from DefaultBuildConfig.
type BuildConfig struct {
	// CacheDir holds the built binaries, one file per hash of sources,
	// target, flags and compiler version. Created when missing.
	CacheDir string
	// Defines are extra -D flags for a C client, for tests that break it
	// on purpose: "SPRIG_PERTURB_NO_PAD" drops the PAD argument slots,
	// "SPRIG_PERTURB_REGISTER_T=long long" forces a register_t.
	Defines []string
	// LinkerX are IMPORTPATH.NAME=VALUE settings passed to a Go runner's
	// link as -ldflags -X, for tests that break sprig's own code on
	// purpose: "github.com/rumpsprig/sprig/sp.faultInjection=swap-retval32".
	LinkerX []string
	// ModuleDir is sprig's module source, which a Go runner is built
	// from. Empty finds it: this package's own source directory when it
	// is on disk, else the module `go env GOMOD` names in the working
	// directory.
	ModuleDir string
}

// DefaultBuildConfig caches binaries under the user's cache directory
// (os.UserCacheDir()/sprig/emu), or the temporary directory without one.
func DefaultBuildConfig() BuildConfig {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return BuildConfig{CacheDir: filepath.Join(dir, "sprig", "emu")}
}

func (c *BuildConfig) verify(t Target) error {
	bad := func(field, why string) error { return fmt.Errorf("emu: build config: %s %s", field, why) }
	if c.CacheDir == "" {
		return bad("CacheDir", "is empty")
	}
	for _, d := range c.Defines {
		if d == "" || strings.HasPrefix(d, "-") || strings.ContainsAny(d, "\n\x00") {
			return bad("Defines:", fmt.Sprintf("%q is not a NAME or NAME=VALUE", d))
		}
	}
	for _, x := range c.LinkerX {
		name, _, ok := strings.Cut(x, "=")
		if !ok || !strings.Contains(name, ".") || strings.HasPrefix(x, "-") || strings.ContainsAny(x, " \t\n\x00'\"") {
			return bad("LinkerX:", fmt.Sprintf("%q is not an IMPORTPATH.NAME=VALUE without spaces or quotes", x))
		}
	}
	switch {
	case t.Program == CClient && len(c.LinkerX) > 0:
		return bad("LinkerX", "is for Go runners; "+t.Name+" is a C client")
	case t.Program == GoRunner && len(c.Defines) > 0:
		return bad("Defines", "are for C clients; "+t.Name+" is a Go runner")
	}
	return nil
}

// Binary is a client program built for one target.
type Binary struct {
	Target Target
	// Path is the binary in the cache directory.
	Path string
	// Command is the build command (C source files by base name; a Go
	// build's environment first).
	Command []string
	// CompilerVersion is the first line of the compiler's --version, or
	// of go version.
	CompilerVersion string
	// Defines are the extra -D flags a C client was built with.
	Defines []string
	// LinkerX are the -X settings a Go runner was linked with.
	LinkerX []string
	// Hash identifies the build: sources, target, flags and compiler.
	Hash string
	// Cached tells that the binary came from the cache; BuildTime is then
	// zero.
	Cached    bool
	BuildTime time.Duration
}

// recipe is one program's way to build for one target, from which Build
// does the rest: hash, cache, compile, check, install.
type recipe struct {
	// version is the compiler's, as Binary.CompilerVersion reports it.
	version string
	// key is everything besides the compiler that decides the binary:
	// sources, flags, environment.
	key []byte
	// display is the command for Binary.Command.
	display []string
	// stage writes what the build needs into the work directory.
	stage func(work string) error
	// command is the argv writing the binary to out.
	command func(work, out string) []string
	// dir and env are the command's working directory (empty: the work
	// directory) and its environment (nil: this process's).
	dir string
	env []string
}

// Build compiles t's program for t, or returns the cached binary of an
// identical earlier build. A missing compiler is a ToolError; a binary
// whose ELF header does not match t is an error matching ErrELF.
func Build(ctx context.Context, t Target, cfg BuildConfig) (*Binary, error) {
	if err := cfg.verify(t); err != nil {
		return nil, err
	}
	tool, err := t.compiler()
	if err != nil {
		return nil, err
	}
	p := t.program()
	r, err := p.prepare(ctx, t, cfg, tool)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", p.binPrefix, t.Name, tool, r.version)
	h.Write(r.key)
	hash := hex.EncodeToString(h.Sum(nil))
	bin := &Binary{
		Target: t, Path: filepath.Join(cfg.CacheDir, p.binPrefix+"-"+t.Name+"-"+hash[:20]),
		Command: r.display, CompilerVersion: r.version, Hash: hash,
		Defines: slices.Clone(cfg.Defines), LinkerX: slices.Clone(cfg.LinkerX),
	}
	if _, err := os.Stat(bin.Path); err == nil {
		if err := verifyELF(bin.Path, t); err != nil {
			return nil, err
		}
		bin.Cached = true
		return bin, nil
	}

	if err := os.MkdirAll(cfg.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("emu: cache: %w", err)
	}
	work, err := os.MkdirTemp(cfg.CacheDir, "build-"+t.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("emu: cache: %w", err)
	}
	defer os.RemoveAll(work)
	if r.stage != nil {
		if err := r.stage(work); err != nil {
			return nil, fmt.Errorf("emu: %s: %w", t.Name, err)
		}
	}
	out := filepath.Join(work, p.binPrefix)
	argv := r.command(work, out)
	start := time.Now()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = r.dir
	if cmd.Dir == "" {
		cmd.Dir = work
	}
	env := r.env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(slices.Clip(env), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("emu: %s: building the %s with %s: %v\n%s", t.Name, t.Program, strings.Join(bin.Command, " "), err, stderr.String())
	}
	bin.BuildTime = time.Since(start)
	if err := verifyELF(out, t); err != nil {
		return nil, err
	}
	// Rename into place: a concurrent identical build loses nothing.
	if err := os.Rename(out, bin.Path); err != nil {
		return nil, fmt.Errorf("emu: cache: %w", err)
	}
	return bin, nil
}

// verifyELF checks that path is a static executable for t's machine,
// word size and byte order.
func verifyELF(path string, t Target) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("emu: %s: %s: %w", t.Name, path, err)
	}
	defer f.Close()
	got := fmt.Sprintf("%s %s %s", f.Class, f.Data, f.Machine)
	if f.Machine != t.Machine || f.Class != t.Class || f.Data != t.Data {
		return fmt.Errorf("%w: %s: %s is %s, want %s", ErrELF, t.Name, filepath.Base(path), got, t.wantELF())
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%w: %s: %s is dynamically linked; qemu-user needs a static binary", ErrELF, t.Name, filepath.Base(path))
		}
	}
	return nil
}
