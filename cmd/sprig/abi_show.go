package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

var abiShowDoc = doc{
	path: "sprig abi show",
	usage: `  sprig abi show ABI [--format text|json]
  sprig abi show ABI --struct STRUCT [--format text|json]
  sprig abi show ABI --syscall SYSCALL [--format text|json]
`,
	details: `ABI is a descriptor name or alias (see 'sprig abi list') or the path of a
descriptor file of any name (docs/abi-json.md): an argument with a / or
ending in .json is always a file, any other is a name when one matches
and a file otherwise.

Without --struct or --syscall, shows the descriptor: its scalar table (C
type, size, alignment inside a struct, signedness) and the NetBSD structs
and syscalls known for it, with their sizes.

--struct lays out a NetBSD struct, named as "stat", "struct stat",
"timespec", "rsp_sysresp", ...: one row per scalar member (nested ones as
st_atim.tv_sec) with its offset, size and C type, a "(padding)" row for
each hole and for tail padding, then the struct's size and alignment.

--syscall lays out struct sys_NAME_args by NetBSD's slot rule: every
argument takes a slot at least register_t wide, and a narrower value sits
at the start of its slot on little-endian machines, at its end on
big-endian ones. SYSCALL is a name (lseek, __stat50), SYS_lseek, or a
number. PAD arguments are marked.

Flags:
  --struct STRUCT      lay out a NetBSD struct
  --syscall SYSCALL    lay out a syscall's argument struct
  --format text|json   output format (default text)

JSON output (stable; sizes and offsets in bytes):
  descriptor  {"abi", "descriptor", "scalars":[{"type","size","align",
              "signed","float"}], "structs":[{"struct","size","align"}],
              "syscalls":[{"number","name","size"}]}
  --struct    {"abi", "struct", "size", "align",
              "fields":[{"path","offset","size","type"}],
              "padding":[{"offset","size"}]}
  --syscall   the --struct shape for struct sys_NAME_args, with each
              argument's value as a field, plus "syscall":{"name",
              "number"} and "slots":[{"name","type","offset","size",
              "datum_offset","datum_size","pad"}]

Unknown ABI, struct and syscall names are usage errors (exit status 2);
the message lists the known names. An unreadable or invalid descriptor
file is a failure (exit status 1).
`,
}

func abiShowCommand() *command {
	return &command{
		name:    "show",
		summary: "show an ABI's scalar table, a struct layout or a syscall's argument slots",
		doc:     abiShowDoc,
		run:     runABIShow,
	}
}

func runABIShow(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(abiShowDoc.path)
	f := formatText
	fs.Var(&f, "format", "")
	structName := fs.String("struct", "", "")
	syscallName := fs.String("syscall", "", "")
	pos, done, code := parseFlags(fs, args, abiShowDoc, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) == 0:
		return abiShowDoc.usageError(stderr, "missing ABI")
	case len(pos) > 1:
		return abiShowDoc.usageError(stderr, "unexpected argument %q", pos[1])
	case *structName != "" && *syscallName != "":
		return abiShowDoc.usageError(stderr, "--struct and --syscall cannot be used together")
	}

	d, err := abi.Resolve(pos[0])
	if errors.Is(err, abi.ErrUnknownABI) {
		return abiShowDoc.badName(stderr, err)
	}
	if err != nil {
		return abiShowDoc.failure(stderr, err)
	}

	var v any
	var text func(*bytes.Buffer)
	switch {
	case *structName != "":
		t, err := findStruct(*structName)
		if err != nil {
			return abiShowDoc.badName(stderr, err)
		}
		l := abi.LayoutOf(d, t)
		v, text = structJSON(l), func(b *bytes.Buffer) { writeStruct(b, l) }
	case *syscallName != "":
		sc, err := findSyscall(*syscallName)
		if err != nil {
			return abiShowDoc.badName(stderr, err)
		}
		a := netbsd.LayoutsFor(d).Args(sc.Num)
		v, text = syscallJSON(sc, a), func(b *bytes.Buffer) { writeSyscall(b, sc, a) }
	default:
		v, text = descriptorJSON(d), func(b *bytes.Buffer) { writeDescriptor(b, d, pos[0]) }
	}

	var b bytes.Buffer
	if f == formatJSON {
		if err := writeJSON(&b, v); err != nil {
			return abiShowDoc.failure(stderr, err)
		}
	} else {
		text(&b)
	}
	return abiShowDoc.output(stdout, stderr, &b)
}

// findStruct finds a NetBSD struct by its tag or C name ("stat",
// "struct stat"); extra blanks do not matter.
func findStruct(name string) (*abi.Type, error) {
	n := strings.Join(strings.Fields(name), " ")
	if t := netbsd.StructByName(n); t != nil {
		return t, nil
	}
	var known []string
	for _, t := range netbsd.StructTypes() {
		known = append(known, t.Name())
	}
	return nil, fmt.Errorf("unknown struct %q; known: %s", name, strings.Join(known, ", "))
}

// findSyscall finds a described syscall by name ("lseek"), by its SYS_
// constant's name ("SYS_lseek") or by number ("199").
func findSyscall(name string) (*netbsd.Syscall, error) {
	if sc := netbsd.LookupName(strings.TrimPrefix(name, "SYS_")); sc != nil {
		return sc, nil
	}
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		if sc := netbsd.Lookup(netbsd.Sysno(n)); sc != nil {
			return sc, nil
		}
	}
	var known []string
	for _, sc := range netbsd.Syscalls() {
		known = append(known, sc.Name)
	}
	return nil, fmt.Errorf("unknown syscall %q; known: %s", name, strings.Join(known, ", "))
}

// The base types in the order a descriptor lists them.
var scalarTypes = []struct {
	base abi.Base
	typ  *abi.Type // the plain C type, for its signedness
}{
	{abi.BaseChar, abi.Char}, {abi.BaseShort, abi.Short}, {abi.BaseInt, abi.Int},
	{abi.BaseLong, abi.Long}, {abi.BaseLongLong, abi.LongLong}, {abi.BasePointer, abi.Pointer},
	{abi.BaseSizeT, abi.SizeT}, {abi.BaseRegisterT, abi.RegisterT},
	{abi.BaseFloat, abi.Float}, {abi.BaseDouble, abi.Double},
	{abi.BaseBool, abi.Bool}, {abi.BaseLongDouble, abi.LongDouble}, {abi.BaseInt128, abi.Int128},
}

// JSON shapes of 'sprig abi show'. They are documented in abiShowDoc
// and doc.go; add keys, never rename or remove them.
type (
	scalarOut struct {
		Type   string `json:"type"`
		Size   int    `json:"size"`
		Align  int    `json:"align"`
		Signed bool   `json:"signed"`
		Float  bool   `json:"float"`
	}
	structSummaryOut struct {
		Struct string `json:"struct"`
		Size   int    `json:"size"`
		Align  int    `json:"align"`
	}
	syscallSummaryOut struct {
		Number uint32 `json:"number"`
		Name   string `json:"name"`
		Size   int    `json:"size"`
	}
	descriptorOut struct {
		ABI        string              `json:"abi"`
		Descriptor *abi.Descriptor     `json:"descriptor"`
		Scalars    []scalarOut         `json:"scalars"`
		Structs    []structSummaryOut  `json:"structs"`
		Syscalls   []syscallSummaryOut `json:"syscalls"`
	}
	fieldOut struct {
		Path   string `json:"path"`
		Offset int    `json:"offset"`
		Size   int    `json:"size"`
		Type   string `json:"type"`
	}
	rangeOut struct {
		Offset int `json:"offset"`
		Size   int `json:"size"`
	}
	syscallOut struct {
		Name   string `json:"name"`
		Number uint32 `json:"number"`
	}
	slotOut struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Offset      int    `json:"offset"`
		Size        int    `json:"size"`
		DatumOffset int    `json:"datum_offset"`
		DatumSize   int    `json:"datum_size"`
		Pad         bool   `json:"pad"`
	}
	layoutOut struct {
		ABI     string      `json:"abi"`
		Struct  string      `json:"struct"`
		Size    int         `json:"size"`
		Align   int         `json:"align"`
		Fields  []fieldOut  `json:"fields"`
		Padding []rangeOut  `json:"padding"`
		Syscall *syscallOut `json:"syscall,omitempty"`
		Slots   []slotOut   `json:"slots,omitempty"`
	}
)

func descriptorJSON(d *abi.Descriptor) *descriptorOut {
	out := &descriptorOut{ABI: d.Name, Descriptor: d}
	for _, s := range scalarTypes {
		if !d.Has(s.base) {
			continue // long double or __int128 the descriptor lacks
		}
		sc := d.Scalar(s.base)
		out.Scalars = append(out.Scalars, scalarOut{
			Type: s.base.String(), Size: sc.Size, Align: sc.Align,
			Signed: s.typ.Signed(d), Float: s.typ.Float(),
		})
	}
	for _, t := range netbsd.StructTypes() {
		l := abi.LayoutOf(d, t)
		out.Structs = append(out.Structs, structSummaryOut{Struct: t.Name(), Size: l.Size, Align: l.Align})
	}
	ls := netbsd.LayoutsFor(d)
	for _, sc := range netbsd.Syscalls() {
		out.Syscalls = append(out.Syscalls, syscallSummaryOut{Number: uint32(sc.Num), Name: sc.Name, Size: ls.Args(sc.Num).Size})
	}
	return out
}

// writeDescriptor prints d, which the user named arg (a name or a file).
func writeDescriptor(b *bytes.Buffer, d *abi.Descriptor, arg string) {
	tw := newTable(b)
	if _, err := abi.Lookup(arg); err != nil {
		fmt.Fprintf(tw, "file\t%s\n", arg)
	}
	for _, kv := range [][2]string{
		{"abi", d.Name},
		{"aliases", orDash(strings.Join(d.Aliases, ", "))},
		{"machine", orDash(d.Machine)},
		{"machine_arch", orDash(d.MachineArch)},
		{"endian", string(d.Endian)},
		{"model", dataModel(d)},
		{"char", signedness(d.CharSigned)},
		{"register_t", registerT(d)},
		{"compiler", orDash(strings.Join(d.Compiler, " "))},
		{"note", orDash(d.Note)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	tw.Flush()

	out := descriptorJSON(d)
	b.WriteString("\nScalars (ALIGN is the alignment inside a struct):\n")
	tw = newTable(b)
	fmt.Fprintln(tw, "TYPE\tSIZE\tALIGN\tSIGNEDNESS")
	for _, s := range out.Scalars {
		sign := signedness(s.Signed)
		if s.Type == "_Bool" {
			sign = "unsigned (0 or 1)"
		}
		if s.Float {
			sign = "floating"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", s.Type, s.Size, s.Align, sign)
	}
	tw.Flush()
	var missing []string
	for _, s := range scalarTypes {
		if !d.Has(s.base) {
			missing = append(missing, s.base.String())
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(b, "(no %s on this ABI)\n", strings.Join(missing, " and no "))
	}
	if d.UnnamedBitFieldsAlign {
		b.WriteString("(unnamed bit-fields align the struct that holds them, as on ARM)\n")
	}

	b.WriteString("\nStructs (sprig abi show " + arg + " --struct STRUCT):\n")
	tw = newTable(b)
	fmt.Fprintln(tw, "STRUCT\tSIZE\tALIGN")
	for _, s := range out.Structs {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", s.Struct, s.Size, s.Align)
	}
	tw.Flush()

	b.WriteString("\nSyscalls (sprig abi show " + arg + " --syscall SYSCALL):\n")
	tw = newTable(b)
	fmt.Fprintln(tw, "NUMBER\tNAME\tARGS SIZE\tARGUMENTS")
	for i, sc := range netbsd.Syscalls() {
		var as []string
		for _, a := range sc.Args {
			if a.Type == abi.Pad {
				as = append(as, "PAD")
			} else {
				as = append(as, cDecl(a.Type.Name(), a.Name))
			}
		}
		args := strings.Join(as, ", ")
		if args == "" {
			args = "void"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", sc.Num, sc.Name, out.Syscalls[i].Size, args)
	}
	tw.Flush()
}

// cDecl spells a declaration of name with C type typ: "int fd",
// "const char *path".
func cDecl(typ, name string) string {
	if strings.HasSuffix(typ, "*") {
		return typ + name
	}
	return typ + " " + name
}

func structJSON(l *abi.Layout) *layoutOut {
	out := &layoutOut{
		ABI: l.ABI.Name, Struct: l.Type.Name(), Size: l.Size, Align: l.Align,
		Fields: []fieldOut{}, Padding: []rangeOut{},
	}
	for _, lf := range l.Leaves() {
		out.Fields = append(out.Fields, fieldOut{Path: lf.Path, Offset: lf.Offset, Size: lf.Size, Type: lf.Type.Name()})
	}
	for _, r := range l.Padding() {
		out.Padding = append(out.Padding, rangeOut{Offset: r.Offset, Size: r.Size})
	}
	return out
}

// writeLayoutTable prints the fields and padding of out in offset order,
// each hole as a "(padding)" row.
func writeLayoutTable(b *bytes.Buffer, out *layoutOut) {
	type row struct {
		off, size int
		typ, name string
	}
	var rows []row
	for _, f := range out.Fields {
		rows = append(rows, row{f.Offset, f.Size, f.Type, f.Path})
	}
	for _, p := range out.Padding {
		rows = append(rows, row{p.Offset, p.Size, "", "(padding)"})
	}
	slices.SortStableFunc(rows, func(a, b row) int { return a.off - b.off })
	tw := newTable(b)
	fmt.Fprintln(tw, "OFFSET\tSIZE\tTYPE\tFIELD")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\n", r.off, r.size, r.typ, r.name)
	}
	tw.Flush()
}

func writeStruct(b *bytes.Buffer, l *abi.Layout) {
	out := structJSON(l)
	fmt.Fprintf(b, "%s on %s (%s-endian %s)\n\n", out.Struct, out.ABI, l.ABI.Endian, dataModel(l.ABI))
	writeLayoutTable(b, out)
	fmt.Fprintf(b, "\n%s: size %d, align %d\n", out.Struct, out.Size, out.Align)
}

// argsName is the C name of a syscall's argument struct.
func argsName(sc *netbsd.Syscall) string {
	return "struct sys_" + sc.Name + "_args"
}

func syscallJSON(sc *netbsd.Syscall, a *abi.ArgsLayout) *layoutOut {
	d := a.ABI
	out := &layoutOut{
		ABI: d.Name, Struct: argsName(sc), Size: a.Size, Align: d.RegisterT.Align,
		Fields: []fieldOut{}, Padding: []rangeOut{},
		Syscall: &syscallOut{Name: sc.Name, Number: uint32(sc.Num)},
		Slots:   []slotOut{},
	}
	used := make([]bool, a.Size)
	for _, s := range a.Slots {
		out.Align = max(out.Align, d.Scalar(s.Type.Base()).Align)
		out.Fields = append(out.Fields, fieldOut{Path: s.Name, Offset: s.Datum.Offset, Size: s.Datum.Size, Type: s.Type.Name()})
		out.Slots = append(out.Slots, slotOut{
			Name: s.Name, Type: s.Type.Name(), Offset: s.Offset, Size: s.Size,
			DatumOffset: s.Datum.Offset, DatumSize: s.Datum.Size, Pad: s.Pad(),
		})
		for i := s.Datum.Offset; i < s.Datum.Offset+s.Datum.Size; i++ {
			used[i] = true
		}
	}
	for i := 0; i < len(used); i++ {
		if used[i] {
			continue
		}
		j := i
		for j < len(used) && !used[j] {
			j++
		}
		out.Padding = append(out.Padding, rangeOut{Offset: i, Size: j - i})
		i = j
	}
	return out
}

func writeSyscall(b *bytes.Buffer, sc *netbsd.Syscall, a *abi.ArgsLayout) {
	out := syscallJSON(sc, a)
	d := a.ABI
	fmt.Fprintf(b, "%s (syscall %d) on %s (%s-endian %s, register_t %s)\n\n",
		out.Struct, sc.Num, d.Name, d.Endian, dataModel(d), registerT(d))
	if len(a.Slots) == 0 {
		b.WriteString("(no arguments)\n")
	} else {
		tw := newTable(b)
		fmt.Fprintln(tw, "SLOT\tSLOT SIZE\tDATUM\tDATUM SIZE\tTYPE\tNAME")
		for _, s := range a.Slots {
			typ, name := s.Type.Name(), s.Name
			if s.Pad() {
				typ, name = "int", s.Name+" (padding argument, no value)"
			}
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\t%s\n", s.Offset, s.Size, s.Datum.Offset, s.Datum.Size, typ, name)
		}
		tw.Flush()
	}
	fmt.Fprintf(b, "\n%s: size %d, align %d\n", out.Struct, out.Size, out.Align)
}
