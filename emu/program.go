package emu

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

// program is what one kind of client program does its own way; the rest
// of the package (hashing, the cache, the ELF check, running, parsing
// results) is shared.
type program struct {
	// binPrefix names the cached binaries ("sprig-cclient").
	binPrefix string
	// versionArgs make the compiler print its version on the first line.
	versionArgs []string
	// prepare works out how to build for t with the compiler at tool.
	prepare func(ctx context.Context, t Target, cfg BuildConfig, tool string) (*recipe, error)
	// args are the flags of a run, after the binary.
	args func(t Target, cfg RunConfig, tmp *scratch) ([]string, error)
	// env is what a run adds to this process's environment.
	env func(t Target) []string
	// destructive says which scenarios of a --list are destructive,
	// given its line for the scenario.
	destructive func(name, mark string) bool
}

// programs are the personalities, indexed by Program.
var programs = [...]program{
	CClient: {
		binPrefix:   "sprig-cclient",
		versionArgs: []string{"--version"},
		prepare:     prepareC,
		args:        cArgs,
		env:         func(Target) []string { return nil },
		destructive: func(_, mark string) bool { return mark == "(destructive)" },
	},
	GoRunner: {
		binPrefix:   "sprig-native",
		versionArgs: []string{"env", "GOVERSION"},
		prepare:     prepareGo,
		args:        goArgs,
		env:         goRunEnv,
		// The runner lists bare names; the manifest knows which are
		// destructive.
		destructive: func(name, _ string) bool {
			s, ok := guestapi.LookupScenario(name)
			return ok && s.Destructive
		},
	},
}

// unknownProgram answers every question about a Program value that names
// no program with an error.
var unknownProgram = program{
	prepare: func(_ context.Context, t Target, _ BuildConfig, _ string) (*recipe, error) {
		return nil, fmt.Errorf("emu: %s: %v is not a client program", t.Name, t.Program)
	},
	args: func(t Target, _ RunConfig, _ *scratch) ([]string, error) {
		return nil, fmt.Errorf("emu: %s: %v is not a client program", t.Name, t.Program)
	},
	env:         func(Target) []string { return nil },
	destructive: func(string, string) bool { return false },
}

func (t Target) program() *program {
	if int(t.Program) < len(programs) {
		return &programs[t.Program]
	}
	return &unknownProgram
}

// The C client.

// sources is the C client, compiled into this package so a build works
// from any directory.
//
//go:embed cclient/*.c cclient/*.h
var sources embed.FS

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

func prepareC(ctx context.Context, t Target, cfg BuildConfig, cc string) (*recipe, error) {
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
	var key strings.Builder
	fmt.Fprintf(&key, "%s\x00", strings.Join(args, "\x00"))
	bases := make([]string, len(files))
	for i, f := range files {
		b, err := sources.ReadFile(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&key, "%s\x00%d\x00%s", f, len(b), b)
		bases[i] = filepath.Base(f)
	}
	return &recipe{
		version: version,
		key:     []byte(key.String()),
		display: slices.Concat([]string{t.Compiler[0]}, args, []string{"-o", "sprig-cclient"}, bases),
		stage: func(work string) error {
			for _, f := range files {
				b, _ := sources.ReadFile(f)
				if err := os.WriteFile(filepath.Join(work, filepath.Base(f)), b, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
		command: func(work, out string) []string {
			var paths []string
			for _, b := range bases {
				if strings.HasSuffix(b, ".c") {
					paths = append(paths, filepath.Join(work, b))
				}
			}
			return slices.Concat([]string{cc}, args, []string{"-o", out}, paths)
		},
	}, nil
}

func cArgs(_ Target, cfg RunConfig, _ *scratch) ([]string, error) {
	args := []string{"--url", cfg.URL, "--timeout-ms", strconv.FormatInt(cfg.Timeout.Milliseconds(), 10)}
	for _, s := range cfg.Scenarios {
		args = append(args, "--scenario", s)
	}
	if cfg.Version != "" {
		args = append(args, "--version", cfg.Version)
	}
	if cfg.Destructive {
		args = append(args, "--destructive")
	}
	if cfg.PadFill != 0 {
		args = append(args, "--pad-fill", strconv.Itoa(int(cfg.PadFill)))
	}
	return args, nil
}

// scratch is a run's temporary directory, made on first use.
type scratch struct{ dir string }

// file writes data into the directory and returns its path.
func (s *scratch) file(name string, data []byte) (string, error) {
	if s.dir == "" {
		d, err := os.MkdirTemp("", "sprig-emu-run-")
		if err != nil {
			return "", err
		}
		s.dir = d
	}
	p := filepath.Join(s.dir, name)
	return p, os.WriteFile(p, data, 0o644)
}

func (s *scratch) remove() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
