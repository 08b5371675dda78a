package golden

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/rumpsprig/sprig/abi"
)

// FrameFile is one ABI's frame golden file, testdata/frames/<abi>.json:
// what its compiler made of frames.c.
type FrameFile struct {
	Provenance
	Objects []FrameRecord `json:"objects"`
}

// FrameRecord is one frame object as the compiler laid it out.
type FrameRecord struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	CType string `json:"ctype"`
	// Sysno is the syscall number of a syscall argument struct.
	Sysno uint32 `json:"sysno,omitempty"`
	// Bytes are the object's wire bytes, hex: its first wirelen bytes.
	Bytes   string        `json:"bytes"`
	Fields  []FrameMember `json:"fields"`
	Padding []PadRange    `json:"padding"`
}

// FrameMember is one initialised member: where the compiler put it and
// what it holds.
type FrameMember struct {
	Path   string `json:"path"`
	Offset int    `json:"offset"`
	Size   int    `json:"size"`
	// Value is the member's value, hex, as C converted the initialiser
	// to the member's type and back to unsigned long long (so a signed
	// member is sign-extended). Absent for a char array.
	Value string `json:"value,omitempty"`
	// Init is a char array's initialiser, hex; the rest of the array
	// is zero.
	Init string `json:"init,omitempty"`
	// Slot is a syscall argument's whole register_t slot; Offset and
	// Size are its datum's.
	Slot *Span `json:"slot,omitempty"`
}

// Span is a run of bytes.
type Span struct {
	Offset int `json:"offset"`
	Size   int `json:"size"`
}

// PadRange is a run of bytes that no initialised member covers, by the
// compiler's offsets and sizes, and why it is there.
type PadRange struct {
	Offset int    `json:"offset"`
	Size   int    `json:"size"`
	What   string `json:"what"`
}

// FramePath is where ABI name's frame golden file lives under testdata.
func FramePath(testdata, name string) string {
	return filepath.Join(testdata, "frames", name+".json")
}

// FrameCommand is the compile command recorded in frame golden files.
func FrameCommand(d *abi.Descriptor) string { return commandLine(d, FrameSourceName) }

// GenerateFrames compiles frames.c with d's compiler in dir (a scratch
// directory) and returns what it read back. It never runs what it
// compiled.
func GenerateFrames(d *abi.Descriptor, dir string) (*FrameFile, error) {
	objs := FrameObjects()
	src := frameSource(objs)
	obj, cc, err := compile(d, dir, "frames", src)
	if err != nil {
		return nil, err
	}
	desc, recs, err := readFrames(obj, objs)
	if err != nil {
		return nil, fmt.Errorf("golden: %s: %s: %w", d.Name, FrameSourceName, err)
	}
	if want := wantELF(d); !strings.HasPrefix(desc, want) {
		return nil, &MachineError{ABI: d.Name, Want: want, Got: desc}
	}
	return &FrameFile{Provenance: provenance(d, FrameSourceName, cc, desc, src), Objects: recs}, nil
}

// readFrames reads the numbers table and every frame object of objs from
// the object file at path.
func readFrames(path string, objs []FrameObject) (desc string, recs []FrameRecord, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	desc = fmt.Sprintf("%s %s %s", f.Class, f.Data, f.Machine)
	syms, err := f.Symbols()
	if err != nil {
		return desc, nil, err
	}
	nums, err := frameNumbers(f, syms, FrameProbes(objs))
	if err != nil {
		return desc, nil, err
	}
	for _, o := range objs {
		raw, err := symbolData(f, syms, o.Symbol())
		if err != nil {
			return desc, nil, err
		}
		n := int(nums[WireLenOf(o.Name)])
		if n > len(raw) {
			return desc, nil, fmt.Errorf("%s: %d wire bytes announced, the object has %d", o.Name, n, len(raw))
		}
		rec := FrameRecord{Name: o.Name, Kind: o.Kind, CType: o.CType, Sysno: uint32(o.Sysno), Bytes: hex.EncodeToString(raw[:n])}
		for _, fl := range o.Fields {
			m := FrameMember{Path: fl.Path, Offset: int(nums[FrameOffsetOf(o.Name, fl.Path)]), Size: int(nums[FrameSizeOf(o.Name, fl.Path)])}
			if fl.Bytes != nil {
				m.Init = hex.EncodeToString(fl.Bytes)
			} else {
				m.Value = fmt.Sprintf("%#x", nums[ValueOf(o.Name, fl.Path)])
			}
			if fl.Arg {
				m.Slot = &Span{Offset: int(nums[SlotOffsetOf(o.Name, fl.Path)]), Size: int(nums[SlotSizeOf(o.Name, fl.Path)])}
			}
			rec.Fields = append(rec.Fields, m)
		}
		rec.Padding = Padding(n, rec.Fields)
		recs = append(recs, rec)
	}
	return desc, recs, nil
}

// frameNumbers reads the values and names tables and checks the names
// are the probes', in order.
func frameNumbers(f *elf.File, syms []elf.Symbol, probes []Probe) (map[string]uint64, error) {
	raw, err := symbolData(f, syms, FrameValuesSymbol)
	if err != nil {
		return nil, err
	}
	nb, err := symbolData(f, syms, FrameNamesSymbol)
	if err != nil {
		return nil, err
	}
	nb = bytes.TrimSuffix(bytes.TrimSuffix(nb, []byte{0}), []byte{0})
	names := strings.Split(string(nb), "\x00")
	if len(raw) != 8*len(probes) || len(names) != len(probes) {
		return nil, fmt.Errorf("object has %d values and %d names, want %d", len(raw)/8, len(names), len(probes))
	}
	m := make(map[string]uint64, len(probes))
	for i, p := range probes {
		if names[i] != p.Name {
			return nil, fmt.Errorf("name %d in the object is %q, want %q", i, names[i], p.Name)
		}
		m[p.Name] = f.ByteOrder.Uint64(raw[8*i:])
	}
	return m, nil
}

// Padding returns the bytes of [0, n) that no member covers, by the
// members' offsets and sizes (a syscall argument covers its datum only),
// each named by where it is: inside a syscall argument's slot, between
// members, or after the last.
func Padding(n int, fields []FrameMember) []PadRange {
	covered := make([]bool, n)
	for _, m := range fields {
		for i := max(m.Offset, 0); i < m.Offset+m.Size && i < n; i++ {
			covered[i] = true
		}
	}
	out := []PadRange{}
	for i := 0; i < n; i++ {
		if covered[i] {
			continue
		}
		j := i
		for j < n && !covered[j] {
			j++
		}
		out = append(out, PadRange{Offset: i, Size: j - i, What: padWhat(i, j, n, fields)})
		i = j
	}
	return out
}

func padWhat(start, end, n int, fields []FrameMember) string {
	prev := ""
	for _, m := range fields {
		span := Span{m.Offset, m.Size}
		if m.Slot != nil {
			span = *m.Slot
			if start >= span.Offset && end <= span.Offset+span.Size {
				return "slot padding of " + m.Path
			}
		}
		if span.Offset+span.Size <= start {
			prev = m.Path
		}
	}
	switch {
	case prev == "":
		return "before the first member"
	case end == n:
		return "tail padding after " + prev
	}
	return "hole after " + prev
}

// Marshal writes f as indented JSON, one member per line.
func (f *FrameFile) Marshal() []byte {
	var b bytes.Buffer
	j := func(v any) string {
		out, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return string(out)
	}
	b.WriteString("{\n")
	for _, kv := range f.members() {
		fmt.Fprintf(&b, "  %s: %s,\n", j(kv.k), j(kv.v))
	}
	b.WriteString("  \"objects\": [\n")
	for i, r := range f.Objects {
		fmt.Fprintf(&b, "    {\"name\": %s, \"kind\": %s, \"ctype\": %s,", j(r.Name), j(r.Kind), j(r.CType))
		if r.Sysno != 0 {
			fmt.Fprintf(&b, " \"sysno\": %d,", r.Sysno)
		}
		fmt.Fprintf(&b, "\n     \"bytes\": %s,\n     \"fields\": [\n", j(r.Bytes))
		for k, m := range r.Fields {
			b.WriteString("       " + j(m))
			if k < len(r.Fields)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "     ],\n     \"padding\": %s}", j(r.Padding))
		if i < len(f.Objects)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes()
}

// ParseFrames reads a frame golden file.
func ParseFrames(data []byte) (*FrameFile, error) { return parseStrict[FrameFile](data) }

// ReadFrameFile reads the frame golden file at path.
func ReadFrameFile(path string) (*FrameFile, error) { return readStrict[FrameFile](path) }

// DiffFrames lists the differences between two frame golden files, at
// most max lines.
func DiffFrames(want, got *FrameFile, max int) []string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < max {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	want.Provenance.diff(&got.Provenance, add)
	line := func(r FrameRecord) string {
		b, _ := json.Marshal(r)
		return string(b)
	}
	gm := map[string]FrameRecord{}
	for _, r := range got.Objects {
		gm[r.Name] = r
	}
	wm := map[string]bool{}
	for _, r := range want.Objects {
		wm[r.Name] = true
		g, ok := gm[r.Name]
		switch {
		case !ok:
			add("%s: now missing", r.Name)
		case line(g) != line(r):
			add("%s:\n    was %s\n    now %s", r.Name, line(r), line(g))
		}
	}
	for _, r := range got.Objects {
		if !wm[r.Name] {
			add("%s: new object", r.Name)
		}
	}
	if len(out) == 0 && !bytes.Equal(want.Marshal(), got.Marshal()) {
		add("objects are in a different order")
	}
	return out
}

// UpdateFrames regenerates testdata/frames.c and the frame golden file of
// every descriptor in ds whose compiler is on PATH, reporting on log what
// it did and what it could not do. A descriptor it cannot compile for
// keeps its file.
func UpdateFrames(testdata string, ds []*abi.Descriptor, log io.Writer) error {
	return regenerate(testdata, goldenKind{
		dir: "frames", sourceName: FrameSourceName, source: FrameSource(), path: FramePath,
		generate: func(d *abi.Descriptor, scratch string) ([]byte, string, error) {
			f, err := GenerateFrames(d, scratch)
			if err != nil {
				return nil, "", err
			}
			return f.Marshal(), fmt.Sprintf("%d frames, %s", len(f.Objects), f.CompilerVersion), nil
		},
	}, ds, log)
}
