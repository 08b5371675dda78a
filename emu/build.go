package emu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// sources is the C client, compiled into this package so a build works
// from any directory.
//
//go:embed cclient/*.c cclient/*.h
var sources embed.FS

// ErrELF is matched by the error of a build whose binary is not for its
// target's machine (a wrong compiler on PATH, say).
var ErrELF = errors.New("emu: binary is not for its target")

// BuildConfig configures Build. Start from DefaultBuildConfig.
type BuildConfig struct {
	// CacheDir holds the built binaries, one file per hash of sources,
	// target, flags and compiler version. Created when missing.
	CacheDir string
	// Defines are extra -D flags, for tests that break the client on
	// purpose: "SPRIG_PERTURB_NO_PAD" drops the PAD argument slots,
	// "SPRIG_PERTURB_REGISTER_T=long long" forces a register_t.
	Defines []string
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

func (c *BuildConfig) verify() error {
	if c.CacheDir == "" {
		return errors.New("emu: build config: CacheDir is empty")
	}
	for _, d := range c.Defines {
		if d == "" || strings.HasPrefix(d, "-") || strings.ContainsAny(d, "\n\x00") {
			return fmt.Errorf("emu: build config: Defines: %q is not a NAME or NAME=VALUE", d)
		}
	}
	return nil
}

// Binary is a C client built for one target.
type Binary struct {
	Target Target
	// Path is the binary in the cache directory.
	Path string
	// Command is the compile command (source files by base name).
	Command []string
	// CompilerVersion is the first line of the compiler's --version.
	CompilerVersion string
	// Defines are the extra -D flags it was built with.
	Defines []string
	// Hash identifies the build: sources, target, flags and compiler.
	Hash string
	// Cached tells that the binary came from the cache; BuildTime is then
	// zero.
	Cached    bool
	BuildTime time.Duration
}

// sourceFiles returns the embedded C files, sorted by name.
func sourceFiles() ([]string, error) {
	var names []string
	err := fs.WalkDir(sources, "cclient", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	slices.Sort(names)
	return names, err
}

// Build compiles the C client for t, or returns the cached binary of an
// identical earlier build. A missing compiler is a ToolError; a binary
// whose ELF header does not match t is an error matching ErrELF.
func Build(ctx context.Context, t Target, cfg BuildConfig) (*Binary, error) {
	if err := cfg.verify(); err != nil {
		return nil, err
	}
	cc, err := t.lookPath(t.Compiler[0], "compiler")
	if err != nil {
		return nil, err
	}
	version, err := firstLine(ctx, cc, "--version")
	if err != nil {
		return nil, err
	}
	files, err := sourceFiles()
	if err != nil {
		return nil, err
	}
	args := slices.Concat(t.Compiler[1:], CommonFlags)
	for _, d := range cfg.Defines {
		args = append(args, "-D"+d)
	}

	h := sha256.New()
	fmt.Fprintf(h, "sprig-cclient\x00%s\x00%s\x00%s\x00%s\x00", t.Name, cc, version, strings.Join(args, "\x00"))
	for _, f := range files {
		b, err := sources.ReadFile(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	hash := hex.EncodeToString(h.Sum(nil))
	bases := make([]string, len(files))
	for i, f := range files {
		bases[i] = filepath.Base(f)
	}
	bin := &Binary{
		Target: t, Path: filepath.Join(cfg.CacheDir, "sprig-cclient-"+t.Name+"-"+hash[:20]),
		Command:         slices.Concat([]string{t.Compiler[0]}, args, []string{"-o", "sprig-cclient"}, bases),
		CompilerVersion: version, Defines: slices.Clone(cfg.Defines), Hash: hash,
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
	var paths []string
	for _, f := range files {
		b, _ := sources.ReadFile(f)
		p := filepath.Join(work, filepath.Base(f))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		if strings.HasSuffix(p, ".c") {
			paths = append(paths, p)
		}
	}
	out := filepath.Join(work, "sprig-cclient")
	start := time.Now()
	cmd := exec.CommandContext(ctx, cc, slices.Concat(args, []string{"-o", out}, paths)...)
	cmd.Env = append(cmd.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("emu: %s: building the C client with %s: %v\n%s", t.Name, strings.Join(bin.Command, " "), err, stderr.String())
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
