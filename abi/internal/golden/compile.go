package golden

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rumpsprig/sprig/abi"
)

// CompileFlags are added after the descriptor's own compiler flags.
var CompileFlags = []string{"-c", "-O0"}

// SourceName is the C file's name in testdata and in the recorded command.
const SourceName = "layouts.c"

// ErrNoCompiler is returned by Generate for a descriptor without a
// compiler, or whose compiler is not on PATH.
var ErrNoCompiler = errors.New("no compiler")

// MachineError reports an object file for another machine than the
// descriptor's: "gcc" on a host that is not amd64, for instance.
type MachineError struct {
	ABI       string
	Want, Got string
}

func (e *MachineError) Error() string {
	return fmt.Sprintf("golden: compiler for %s produced %s objects, want %s", e.ABI, e.Got, e.Want)
}

// elfMachines maps NetBSD MACHINE_ARCH to the ELF machine its compiler
// must produce.
var elfMachines = map[string]elf.Machine{
	"x86_64": elf.EM_X86_64, "i386": elf.EM_386,
	"aarch64": elf.EM_AARCH64, "aarch64eb": elf.EM_AARCH64,
	"earmv7hf": elf.EM_ARM, "mipseb": elf.EM_MIPS, "powerpc": elf.EM_PPC,
	"sparc64": elf.EM_SPARCV9, "riscv64": elf.EM_RISCV,
}

// wantELF describes the object file d's compiler must produce. The
// machine is unknown ("") for MACHINE_ARCH values not in elfMachines.
func wantELF(d *abi.Descriptor) string {
	class := elf.ELFCLASS32
	if d.Pointer.Size == 8 {
		class = elf.ELFCLASS64
	}
	data := elf.ELFDATA2LSB
	if d.BigEndian() {
		data = elf.ELFDATA2MSB
	}
	s := class.String() + " " + data.String()
	if m, ok := elfMachines[d.MachineArch]; ok {
		s += " " + m.String()
	}
	return s
}

// SourceSHA256 is the hex SHA-256 of a C source.
func SourceSHA256(src []byte) string {
	h := sha256.Sum256(src)
	return hex.EncodeToString(h[:])
}

// Command is the compile command as recorded in golden files.
func Command(d *abi.Descriptor) string { return commandLine(d, SourceName) }

// commandLine is the command that compiles sourceName for d, as golden
// files record it.
func commandLine(d *abi.Descriptor, sourceName string) string {
	args := append(append(append([]string(nil), d.Compiler...), CompileFlags...), sourceName)
	return strings.Join(args, " ")
}

// Generate compiles CSource with d's compiler in dir (a scratch
// directory) and returns the numbers it recorded. It never runs what it
// compiled.
func Generate(d *abi.Descriptor, dir string) (*File, error) {
	set := Golden()
	src := set.Source()
	entries, got, cc, err := Measure(d, dir, set, src)
	if err != nil {
		return nil, err
	}
	return &File{Provenance: provenance(d, SourceName, cc, got, src), Seed: Seed, Entries: entries}, nil
}

// compile builds src as base.c with d's compiler into dir and returns the
// object's path and the compiler's.
func compile(d *abi.Descriptor, dir, base string, src []byte) (obj, cc string, err error) {
	if len(d.Compiler) == 0 {
		return "", "", fmt.Errorf("golden: %s: %w named in its descriptor", d.Name, ErrNoCompiler)
	}
	cc, err = exec.LookPath(d.Compiler[0])
	if err != nil {
		return "", "", fmt.Errorf("golden: %s: %w: %v", d.Name, ErrNoCompiler, err)
	}
	cfile := filepath.Join(dir, d.Name+"-"+base+".c")
	if err := os.WriteFile(cfile, src, 0o644); err != nil {
		return "", cc, err
	}
	obj = filepath.Join(dir, d.Name+"-"+base+".o")
	args := append(append(append([]string(nil), d.Compiler[1:]...), CompileFlags...), "-o", obj, cfile)
	cmd := exec.Command(cc, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", cc, fmt.Errorf("golden: %s: %s %s %s.c: %v\n%s", d.Name, strings.Join(d.Compiler, " "),
			strings.Join(CompileFlags, " "), base, err, stderr.String())
	}
	return obj, cc, nil
}

// Measure compiles src, the C file of set, with d's compiler in dir and
// returns every number it measured: the values array in probe order
// (those d's compiler builds), then each bit-field's offset and width.
// It also returns the object's ELF description and the compiler's path.
func Measure(d *abi.Descriptor, dir string, set *Set, src []byte) (entries []Entry, elfDesc, cc string, err error) {
	obj, cc, err := compile(d, dir, strings.TrimSuffix(set.Name, ".c"), src)
	if err != nil {
		return nil, "", cc, err
	}
	names, vals, got, err := ReadObject(obj)
	if err != nil {
		return nil, got, cc, fmt.Errorf("golden: %s: %w", d.Name, err)
	}
	if want := wantELF(d); !strings.HasPrefix(got, want) {
		return nil, got, cc, &MachineError{ABI: d.Name, Want: want, Got: got}
	}
	var probes []Probe
	for _, p := range set.Probes() {
		if Available(d, p.Needs128) {
			probes = append(probes, p)
		}
	}
	if len(names) != len(probes) || len(vals) != len(probes) {
		return nil, got, cc, fmt.Errorf("golden: %s: object has %d names and %d values, want %d (does the descriptor's int128 match the compiler?)", d.Name, len(names), len(vals), len(probes))
	}
	for i, p := range probes {
		if names[i] != p.Name {
			return nil, got, cc, fmt.Errorf("golden: %s: name %d in the object is %q, want %q", d.Name, i, names[i], p.Name)
		}
		entries = append(entries, Entry{Name: p.Name, Value: vals[i]})
	}
	bitEntries, err := readBits(obj, d, set)
	if err != nil {
		return nil, got, cc, fmt.Errorf("golden: %s: %w", d.Name, err)
	}
	return append(entries, bitEntries...), got, cc, nil
}

// readBits reads every bit-field object of set from the object file.
func readBits(path string, d *abi.Descriptor, set *Set) ([]Entry, error) {
	probes := set.BitProbes()
	if len(probes) == 0 {
		return nil, nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	big := f.ByteOrder == binary.BigEndian
	byName := make(map[string]elf.Symbol, len(syms))
	for _, s := range syms {
		if strings.HasPrefix(s.Name, BitsSymbolPrefix) {
			byName[s.Name] = s
		}
	}
	var out []Entry
	for _, bp := range probes {
		if !Available(d, bp.Needs128) {
			continue
		}
		raw, err := symbolIn(f, func(yield func(elf.Symbol) bool) {
			if s, ok := byName[bp.Symbol]; ok {
				yield(s)
			}
		}, bp.Symbol)
		if err != nil {
			return nil, err
		}
		off, width, ok := BitSpan(raw, big)
		if !ok {
			return nil, fmt.Errorf("%s (%s .%s = -1) sets no bits, or bits that do not run on in %s bit order: % x",
				bp.Symbol, bp.Struct, bp.Path, f.ByteOrder, raw)
		}
		out = append(out, Entry{Name: BitOffsetOf(bp.Struct, bp.Path), Value: uint64(off)},
			Entry{Name: BitWidthOf(bp.Struct, bp.Path), Value: uint64(width)})
	}
	return out, nil
}

// BitSpan finds the set bits of b, numbered in memory order for the byte
// order (bit 0 is the least significant bit of b[0] on little-endian
// machines, its most significant bit on big-endian ones), and returns the
// first one and how many there are; ok is false when none is set or the
// set bits do not form one run.
func BitSpan(b []byte, big bool) (off, width int, ok bool) {
	first, last := -1, -1
	for j := 0; j < 8*len(b); j++ {
		mask := byte(1) << uint(j%8)
		if big {
			mask = 0x80 >> uint(j%8)
		}
		if b[j/8]&mask == 0 {
			continue
		}
		if first < 0 {
			first = j
		}
		last = j
		width++
	}
	if first < 0 || last-first+1 != width {
		return 0, 0, false
	}
	return first, width, true
}

func compilerVersion(cc string) string {
	cmd := exec.Command(cc, "--version")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// ReadObject reads the value and name tables from a relocatable ELF
// object, in the object's own class and byte order, and describes the
// object as "ELFCLASS64 ELFDATA2MSB EM_SPARCV9".
func ReadObject(path string) (names []string, vals []uint64, desc string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, nil, "", err
	}
	defer f.Close()
	desc = fmt.Sprintf("%s %s %s", f.Class, f.Data, f.Machine)
	raw, err := symbolBytes(f, ValuesSymbol)
	if err != nil {
		return nil, nil, desc, err
	}
	if len(raw)%8 != 0 {
		return nil, nil, desc, fmt.Errorf("%s is %d bytes, not a multiple of 8", ValuesSymbol, len(raw))
	}
	for i := 0; i < len(raw); i += 8 {
		vals = append(vals, f.ByteOrder.Uint64(raw[i:]))
	}
	nb, err := symbolBytes(f, NamesSymbol)
	if err != nil {
		return nil, nil, desc, err
	}
	nb = bytes.TrimSuffix(nb, []byte{0}) // the literal's own terminator
	if len(nb) > 0 {
		nb = bytes.TrimSuffix(nb, []byte{0}) // the last name's separator
		for _, n := range bytes.Split(nb, []byte{0}) {
			names = append(names, string(n))
		}
	}
	return names, vals, desc, nil
}

// symbolBytes returns the initialised bytes of a data symbol in a
// relocatable object: its value is an offset into its section. A section
// with relocations against it would not hold final values; refuse it.
func symbolBytes(f *elf.File, name string) ([]byte, error) {
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	return symbolData(f, syms, name)
}

func symbolData(f *elf.File, syms []elf.Symbol, name string) ([]byte, error) {
	return symbolIn(f, func(yield func(elf.Symbol) bool) {
		for _, s := range syms {
			if s.Name == name && !yield(s) {
				return
			}
		}
	}, name)
}

func symbolIn(f *elf.File, syms func(func(elf.Symbol) bool), name string) ([]byte, error) {
	for s := range syms {
		if s.Section == elf.SHN_UNDEF || int(s.Section) >= len(f.Sections) {
			return nil, fmt.Errorf("symbol %s is in no section", name)
		}
		sec := f.Sections[s.Section]
		if sec.Type == elf.SHT_NOBITS {
			return nil, fmt.Errorf("symbol %s is in %s, which has no data", name, sec.Name)
		}
		for _, rs := range f.Sections {
			if (rs.Type == elf.SHT_REL || rs.Type == elf.SHT_RELA) && rs.Info == uint32(s.Section) {
				return nil, fmt.Errorf("section %s of %s has relocations (%s)", sec.Name, name, rs.Name)
			}
		}
		data, err := sec.Data()
		if err != nil {
			return nil, err
		}
		if s.Value+s.Size > uint64(len(data)) {
			return nil, fmt.Errorf("symbol %s runs past its section %s", name, sec.Name)
		}
		return data[s.Value : s.Value+s.Size], nil
	}
	return nil, fmt.Errorf("no symbol %s", name)
}
