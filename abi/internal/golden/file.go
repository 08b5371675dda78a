package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rumpsprig/sprig/abi"
)

// File is one ABI's golden file: what its compiler measured.
type File struct {
	Provenance
	Seed    uint64  `json:"seed"`
	Entries []Entry `json:"entries"`
}

// Provenance says what made a golden file of either kind: the ABI, its
// compiler and the command, the object it made and the C source, with
// that source's hash.
type Provenance struct {
	ABI             string   `json:"abi"`
	Compiler        []string `json:"compiler"`
	Command         string   `json:"command"`
	CompilerVersion string   `json:"compiler_version"`
	ELF             string   `json:"elf"`
	Source          string   `json:"source"`
	SourceSHA256    string   `json:"source_sha256"`
}

// provenance records that compiler cc made an object described as elf
// for d from src, the file called sourceName under testdata.
func provenance(d *abi.Descriptor, sourceName, cc, elf string, src []byte) Provenance {
	return Provenance{
		ABI:             d.Name,
		Compiler:        append([]string(nil), d.Compiler...),
		Command:         commandLine(d, sourceName),
		CompilerVersion: compilerVersion(cc),
		ELF:             elf,
		Source:          "testdata/" + sourceName,
		SourceSHA256:    SourceSHA256(src),
	}
}

// keyValue is one top-level member of a golden file as Marshal writes it.
type keyValue struct {
	k string
	v any
}

// members are p's members in the order both kinds of file write them.
func (p *Provenance) members() []keyValue {
	return []keyValue{
		{"abi", p.ABI}, {"compiler", p.Compiler}, {"command", p.Command},
		{"compiler_version", p.CompilerVersion}, {"elf", p.ELF}, {"source", p.Source},
		{"source_sha256", p.SourceSHA256},
	}
}

// diff reports with add every member of got that differs from want's.
func (want *Provenance) diff(got *Provenance, add func(format string, args ...any)) {
	hdr := func(name, w, g string) {
		if w != g {
			add("%s: %q, now %q", name, w, g)
		}
	}
	hdr("abi", want.ABI, got.ABI)
	hdr("compiler", strings.Join(want.Compiler, " "), strings.Join(got.Compiler, " "))
	hdr("command", want.Command, got.Command)
	hdr("compiler_version", want.CompilerVersion, got.CompilerVersion)
	hdr("elf", want.ELF, got.ELF)
	hdr("source", want.Source, got.Source)
	hdr("source_sha256", want.SourceSHA256, got.SourceSHA256)
}

// Entry is one measured number.
type Entry struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// Map returns the entries by name.
func (f *File) Map() map[string]uint64 {
	m := make(map[string]uint64, len(f.Entries))
	for _, e := range f.Entries {
		m[e.Name] = e.Value
	}
	return m
}

// Value returns the entry called name, panicking when there is none (for
// tests that name entries known to exist).
func (f *File) Value(name string) uint64 {
	for _, e := range f.Entries {
		if e.Name == name {
			return e.Value
		}
	}
	panic(fmt.Sprintf("golden: %s has no entry %q", f.ABI, name))
}

// Marshal writes f as indented JSON with one entry per line, so diffs of
// golden files read well.
func (f *File) Marshal() []byte {
	var b bytes.Buffer
	j := func(v any) string {
		out, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return string(out)
	}
	b.WriteString("{\n")
	for _, kv := range append(f.members(), keyValue{"seed", f.Seed}) {
		fmt.Fprintf(&b, "  %s: %s,\n", j(kv.k), j(kv.v))
	}
	b.WriteString("  \"entries\": [\n")
	for i, e := range f.Entries {
		b.WriteString("    " + j(e))
		if i < len(f.Entries)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes()
}

// Parse reads a golden file.
func Parse(data []byte) (*File, error) { return parseStrict[File](data) }

// ReadFile reads the golden file at path.
func ReadFile(path string) (*File, error) { return readStrict[File](path) }

// parseStrict decodes one JSON value of type T, refusing unknown keys:
// both kinds of golden file are written by this package only.
func parseStrict[T any](data []byte) (*T, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	return &v, nil
}

// readStrict is parseStrict of the file at path.
func readStrict[T any](path string) (*T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := parseStrict[T](data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return v, nil
}

// Path is where ABI name's golden file lives under testdata.
func Path(testdata, name string) string {
	return filepath.Join(testdata, "golden", name+".json")
}

// Diff lists the differences between two golden files, at most max lines.
func Diff(want, got *File, max int) []string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < max {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	want.Provenance.diff(&got.Provenance, add)
	if want.Seed != got.Seed {
		add("seed: %#x, now %#x", want.Seed, got.Seed)
	}
	wm, gm := want.Map(), got.Map()
	for _, e := range want.Entries {
		g, ok := gm[e.Name]
		switch {
		case !ok:
			add("%s: %d, now missing", e.Name, e.Value)
		case g != e.Value:
			add("%s: %d, now %d", e.Name, e.Value, g)
		}
	}
	for _, e := range got.Entries {
		if _, ok := wm[e.Name]; !ok {
			add("%s: new entry %d", e.Name, e.Value)
		}
	}
	if len(out) == 0 && !bytes.Equal(want.Marshal(), got.Marshal()) {
		add("entries are in a different order")
	}
	return out
}

// Update regenerates testdata/layouts.c and the golden file of every
// descriptor in ds whose compiler is on PATH, reporting on log what it
// did and what it could not do. A descriptor it cannot compile for keeps
// its golden file.
func Update(testdata string, ds []*abi.Descriptor, log io.Writer) error {
	return regenerate(testdata, goldenKind{
		dir: "golden", sourceName: SourceName, source: CSource(), path: Path,
		generate: func(d *abi.Descriptor, scratch string) ([]byte, string, error) {
			f, err := Generate(d, scratch)
			if err != nil {
				return nil, "", err
			}
			return f.Marshal(), fmt.Sprintf("%d numbers, %s", len(f.Entries), f.CompilerVersion), nil
		},
	}, ds, log)
}

// goldenKind is one kind of golden file: the C source every ABI's file is
// compiled from, and how one descriptor's file is made and named.
type goldenKind struct {
	dir, sourceName string
	source          []byte
	// generate compiles for d in scratch and returns the file's bytes and
	// a summary for the log.
	generate func(d *abi.Descriptor, scratch string) ([]byte, string, error)
	path     func(testdata, name string) string
}

// regenerate writes k's source and the file of every descriptor in ds
// whose compiler is on PATH; one without a compiler, or whose compiler
// made an object for another machine, keeps its file and is logged.
func regenerate(testdata string, k goldenKind, ds []*abi.Descriptor, log io.Writer) error {
	if err := os.MkdirAll(filepath.Join(testdata, k.dir), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(testdata, k.sourceName), k.source, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrote %s\n", filepath.Join(testdata, k.sourceName))
	scratch, err := os.MkdirTemp("", "sprig-"+k.dir+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	var errs []error
	for _, d := range ds {
		data, summary, err := k.generate(d, scratch)
		var me *MachineError
		switch {
		case errors.Is(err, ErrNoCompiler), errors.As(err, &me):
			fmt.Fprintf(log, "%s: not regenerated: %v\n", d.Name, err)
			continue
		case err != nil:
			errs = append(errs, err)
			continue
		}
		p := k.path(testdata, d.Name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(log, "%s: wrote %s (%s)\n", d.Name, p, summary)
	}
	return errors.Join(errs...)
}
