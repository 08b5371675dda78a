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

// Target is one machine the C client is built for and run on.
type Target struct {
	// Name is the sprig ABI the client speaks ("i386"), and so the
	// target's name.
	Name string
	// Triple is the GNU triple of the toolchain ("i686-linux-gnu").
	Triple string
	// Compiler is the C compiler and the flags this machine needs, before
	// the flags every build uses (CommonFlags).
	Compiler []string
	// Qemu is the qemu-user program that runs the target's binaries on a
	// host of another kind ("qemu-i386-static").
	Qemu string
	// Machine, Class and Data are what the ELF header of a binary built
	// for the target must say.
	Machine elf.Machine
	Class   elf.Class
	Data    elf.Data
}

// CommonFlags are added to every build after the target's own compiler
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

// Targets returns every target, the host's first.
func Targets() []Target {
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

// LookupTarget returns the target called name (an ABI name or alias:
// "i686" finds i386).
func LookupTarget(name string) (Target, error) {
	d, err := abi.Lookup(name)
	if err == nil {
		name = d.Name
	}
	for _, t := range Targets() {
		if t.Name == name {
			return t, nil
		}
	}
	return Target{}, fmt.Errorf("emu: no target %q (have %s)", name, strings.Join(Names(), ", "))
}

// ABI returns the sprig descriptor of the ABI the target's client speaks.
func (t Target) ABI() *abi.Descriptor { return abi.MustLookup(t.Name) }

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

// Check reports the first tool the target lacks on this host: its
// compiler, or its emulator when it is not native. Nil means the target
// can be built and run.
func (t Target) Check() error {
	if _, err := t.lookPath(t.Compiler[0], "compiler"); err != nil {
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
// ("i686-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0").
func (t Target) CompilerVersion(ctx context.Context) (string, error) {
	p, err := t.lookPath(t.Compiler[0], "compiler")
	if err != nil {
		return "", err
	}
	return firstLine(ctx, p, "--version")
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
