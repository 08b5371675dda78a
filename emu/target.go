package emu

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/sp"
)

// ErrToolMissing is matched (errors.Is) by every ToolError.
var ErrToolMissing = errors.New("not found")

// ToolError says that a target's compiler or emulator is not installed.
// Its message names both: "mips: mips-linux-gnu-gcc not found".
type ToolError struct {
	Target string // the target's name ("mips")
	Tool   string // the missing program ("mips-linux-gnu-gcc")
	Kind   string // "compiler" or "emulator"
}

func (e *ToolError) Error() string { return e.Target + ": " + e.Tool + " " + ErrToolMissing.Error() }

// Unwrap makes errors.Is(err, ErrToolMissing) true.
func (e *ToolError) Unwrap() error { return ErrToolMissing }

// Program is the kind of client program a target builds. Both kinds go
// through one mechanism (build, cache, check the ELF header, run, parse
// JSON result lines); the program decides how to compile and which flags
// to pass.
type Program uint8

// Programs.
const (
	// CClient is sprig's C reference client (emu/cclient) built with the
	// machine's C cross compiler: the compiler lays out every struct.
	CClient Program = iota
	// GoRunner is sprig's own scenario suite as a native program
	// (guest/native) cross-built with the Go toolchain: sprig's layout
	// engine and codec, running on the machine's CPU.
	GoRunner
)

var programNames = [...]string{CClient: "C client", GoRunner: "Go runner"}

func (p Program) String() string {
	if int(p) < len(programNames) {
		return programNames[p]
	}
	return fmt.Sprintf("Program(%d)", uint8(p))
}

// Target is one client program built for one machine.
type Target struct {
	// Name identifies the target: the ABI's name for a C client ("i386"),
	// "go-" and the GOARCH for a Go runner ("go-ppc64").
	Name string
	// Program is the kind of client program.
	Program Program
	// ABIName is the sprig ABI the client speaks ("sparc64" for go-ppc64);
	// empty means Name.
	ABIName string
	// Triple is the GNU triple of a C client's toolchain
	// ("i686-linux-gnu").
	Triple string
	// Compiler is the compiler and the flags this machine needs: a C
	// compiler before CommonFlags, or "go".
	Compiler []string
	// GOARCH and GOARM are a Go runner's build environment.
	GOARCH, GOARM string
	// Qemu is the qemu-user program that runs the target's binaries on a
	// host of another kind ("qemu-i386-static").
	Qemu string
	// Machine, Class and Data are what the ELF header of a binary built
	// for the target must say.
	Machine elf.Machine
	Class   elf.Class
	Data    elf.Data
}

// CommonFlags are added to every C build after the target's own compiler
// flags: a static C99 binary with every warning an error.
var CommonFlags = []string{"-static", "-O1", "-std=c99", "-Wall", "-Werror",
	"-D_POSIX_C_SOURCE=200809L", "-D_DEFAULT_SOURCE"}

// hostCompiler is the amd64 target's compiler: the host's own gcc on an
// amd64 host, Debian's cross compiler elsewhere.
func hostCompiler() string {
	if runtime.GOARCH == "amd64" {
		return "gcc"
	}
	return "x86_64-linux-gnu-gcc"
}

// largeFiles is what 32-bit glibc targets need for 64-bit file offsets.
const largeFiles = "-D_FILE_OFFSET_BITS=64"

// cTargets are the C client's machines, the host's first.
func cTargets() []Target {
	return []Target{
		{Name: "amd64", Triple: "x86_64-linux-gnu", Compiler: []string{hostCompiler()}, Qemu: "qemu-x86_64-static",
			Machine: elf.EM_X86_64, Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB},
		{Name: "i386", Triple: "i686-linux-gnu", Compiler: []string{"i686-linux-gnu-gcc", largeFiles}, Qemu: "qemu-i386-static",
			Machine: elf.EM_386, Class: elf.ELFCLASS32, Data: elf.ELFDATA2LSB},
		{Name: "arm64", Triple: "aarch64-linux-gnu", Compiler: []string{"aarch64-linux-gnu-gcc"}, Qemu: "qemu-aarch64-static",
			Machine: elf.EM_AARCH64, Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB},
		{Name: "arm", Triple: "arm-linux-gnueabihf", Compiler: []string{"arm-linux-gnueabihf-gcc", largeFiles}, Qemu: "qemu-arm-static",
			Machine: elf.EM_ARM, Class: elf.ELFCLASS32, Data: elf.ELFDATA2LSB},
		{Name: "mips", Triple: "mips-linux-gnu", Compiler: []string{"mips-linux-gnu-gcc", "-mabi=32", largeFiles}, Qemu: "qemu-mips-static",
			Machine: elf.EM_MIPS, Class: elf.ELFCLASS32, Data: elf.ELFDATA2MSB},
		{Name: "powerpc", Triple: "powerpc-linux-gnu", Compiler: []string{"powerpc-linux-gnu-gcc", largeFiles}, Qemu: "qemu-ppc-static",
			Machine: elf.EM_PPC, Class: elf.ELFCLASS32, Data: elf.ELFDATA2MSB},
		{Name: "sparc64", Triple: "sparc64-linux-gnu", Compiler: []string{"sparc64-linux-gnu-gcc"}, Qemu: "qemu-sparc64-static",
			Machine: elf.EM_SPARCV9, Class: elf.ELFCLASS64, Data: elf.ELFDATA2MSB},
		{Name: "riscv64", Triple: "riscv64-linux-gnu", Compiler: []string{"riscv64-linux-gnu-gcc"}, Qemu: "qemu-riscv64-static",
			Machine: elf.EM_RISCV, Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB},
	}
}

// goTargets are the Go runner's machines, the host's first. Each speaks
// its own CPU's ABI, except ppc64 and s390x: sprig has no NetBSD ABI for
// them, so they speak sparc64, another big-endian LP64 ABI. That they
// pass exactly as a sparc64 machine would is the point: the runner lays
// out every frame and struct from the descriptor, never from the CPU it
// runs on (see doc.go).
func goTargets() []Target {
	g := func(goarch, abiName, qemu string, m elf.Machine, c elf.Class, d elf.Data) Target {
		return Target{Name: "go-" + goarch, Program: GoRunner, ABIName: abiName, Compiler: []string{"go"},
			GOARCH: goarch, Qemu: qemu, Machine: m, Class: c, Data: d}
	}
	arm := g("arm", "arm", "qemu-arm-static", elf.EM_ARM, elf.ELFCLASS32, elf.ELFDATA2LSB)
	arm.GOARM = "7"
	return []Target{
		g("amd64", "amd64", "qemu-x86_64-static", elf.EM_X86_64, elf.ELFCLASS64, elf.ELFDATA2LSB),
		g("386", "i386", "qemu-i386-static", elf.EM_386, elf.ELFCLASS32, elf.ELFDATA2LSB),
		g("arm64", "arm64", "qemu-aarch64-static", elf.EM_AARCH64, elf.ELFCLASS64, elf.ELFDATA2LSB),
		arm,
		g("mips", "mips", "qemu-mips-static", elf.EM_MIPS, elf.ELFCLASS32, elf.ELFDATA2MSB),
		g("riscv64", "riscv64", "qemu-riscv64-static", elf.EM_RISCV, elf.ELFCLASS64, elf.ELFDATA2LSB),
		g("ppc64", "sparc64", "qemu-ppc64-static", elf.EM_PPC64, elf.ELFCLASS64, elf.ELFDATA2MSB),
		g("s390x", "sparc64", "qemu-s390x-static", elf.EM_S390, elf.ELFCLASS64, elf.ELFDATA2MSB),
	}
}

// Targets returns every target: the C client's machines (the host's
// first), then the Go runner's.
func Targets() []Target { return slices.Concat(cTargets(), goTargets()) }

// LookupTarget returns the target called name, or the C client of the
// ABI called name (an ABI name or alias: "i686" finds i386).
func LookupTarget(name string) (Target, error) {
	all := Targets()
	if i := slices.IndexFunc(all, func(t Target) bool { return t.Name == name }); i >= 0 {
		return all[i], nil
	}
	if d, err := abi.Lookup(name); err == nil {
		for _, t := range all {
			if t.Program == CClient && t.abiName() == d.Name {
				return t, nil
			}
		}
	}
	return Target{}, fmt.Errorf("emu: no target %q (have %s)", name, strings.Join(Names(), ", "))
}

// ClientsOf returns the targets whose programs act as a client of the
// ABI called name (a name or alias): its C client, then the Go runners
// speaking it. An ABI with no such machine has none. Whether this host
// can build and run each is Check's business.
func ClientsOf(name string) ([]Target, error) {
	d, err := abi.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("emu: %w", err)
	}
	var out []Target
	for _, t := range Targets() {
		if t.abiName() == d.Name {
			out = append(out, t)
		}
	}
	return out, nil
}

func (t Target) abiName() string {
	if t.ABIName != "" {
		return t.ABIName
	}
	return t.Name
}

// ABI returns the sprig descriptor of the ABI the target's client speaks.
func (t Target) ABI() *abi.Descriptor { return abi.MustLookup(t.abiName()) }

// Modes returns the modes the target's program can run in: native for
// the C client (it is NetBSD's C client: it knows only its own ABI), all
// three for the Go runner.
func (t Target) Modes() []sp.Mode {
	if t.Program == GoRunner {
		return sp.Modes()
	}
	return []sp.Mode{sp.ModeNative}
}

// hostMachines maps GOARCH to the ELF machine, class and byte order of
// the binaries the host runs without an emulator.
var hostMachines = map[string]struct {
	m elf.Machine
	c elf.Class
	d elf.Data
}{
	"amd64":   {elf.EM_X86_64, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"386":     {elf.EM_386, elf.ELFCLASS32, elf.ELFDATA2LSB},
	"arm64":   {elf.EM_AARCH64, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"arm":     {elf.EM_ARM, elf.ELFCLASS32, elf.ELFDATA2LSB},
	"mips":    {elf.EM_MIPS, elf.ELFCLASS32, elf.ELFDATA2MSB},
	"ppc":     {elf.EM_PPC, elf.ELFCLASS32, elf.ELFDATA2MSB},
	"ppc64":   {elf.EM_PPC64, elf.ELFCLASS64, elf.ELFDATA2MSB},
	"s390x":   {elf.EM_S390, elf.ELFCLASS64, elf.ELFDATA2MSB},
	"riscv64": {elf.EM_RISCV, elf.ELFCLASS64, elf.ELFDATA2LSB},
}

// Native tells whether the host runs the target's binaries directly.
func (t Target) Native() bool {
	h, ok := hostMachines[runtime.GOARCH]
	return ok && runtime.GOOS == "linux" && h.m == t.Machine && h.c == t.Class && h.d == t.Data
}

// lookPath finds a tool on PATH or says it is missing.
func (t Target) lookPath(tool, kind string) (string, error) {
	p, err := exec.LookPath(tool)
	if err != nil {
		return "", &ToolError{Target: t.Name, Tool: tool, Kind: kind}
	}
	return p, nil
}

// compiler finds the target's compiler.
func (t Target) compiler() (string, error) {
	if len(t.Compiler) == 0 {
		return "", fmt.Errorf("emu: %s: the target names no compiler", t.Name)
	}
	return t.lookPath(t.Compiler[0], "compiler")
}

// Check reports the first tool the target lacks on this host: its
// compiler, or its emulator when it is not native. Nil means the target
// can be built and run.
func (t Target) Check() error {
	if _, err := t.compiler(); err != nil {
		return err
	}
	if !t.Native() {
		if _, err := t.lookPath(t.Qemu, "emulator"); err != nil {
			return err
		}
	}
	return nil
}

// CompilerVersion returns the first line of the compiler's --version
// ("i686-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0"), or of go version
// ("go version go1.26.8 linux/amd64").
func (t Target) CompilerVersion(ctx context.Context) (string, error) {
	p, err := t.compiler()
	if err != nil {
		return "", err
	}
	return firstLine(ctx, p, t.program().versionArgs...)
}

// QemuVersion returns the first line of the emulator's --version, or ""
// for a native target.
func (t Target) QemuVersion(ctx context.Context) (string, error) {
	if t.Native() {
		return "", nil
	}
	p, err := t.lookPath(t.Qemu, "emulator")
	if err != nil {
		return "", err
	}
	return firstLine(ctx, p, "--version")
}

func firstLine(ctx context.Context, prog string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = append(cmd.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("emu: %s %s: %w", prog, strings.Join(args, " "), err)
	}
	line, _, _ := bytes.Cut(out, []byte("\n"))
	return strings.TrimSpace(string(line)), nil
}

// wantELF describes the target's ELF header for error messages.
func (t Target) wantELF() string {
	return fmt.Sprintf("%s %s %s", t.Class, t.Data, t.Machine)
}

// Names returns the names of the targets, in Targets order.
func Names() []string {
	var out []string
	for _, t := range Targets() {
		out = append(out, t.Name)
	}
	return slices.Clip(out)
}
