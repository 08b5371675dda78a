package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

var abiDiffDoc = doc{
	path: "sprig abi diff",
	usage: `  sprig abi diff ABI1 ABI2 [--struct NAME | --file FILE.h] [--format text|json]
`,
	details: `Lists exactly what differs between two ABIs, one difference a line: the
descriptor's byte order, scalar sizes, alignments and signedness, then,
struct by struct, the size, the alignment and every member whose offset,
size or bit position differs, then every syscall argument struct whose
slots differ. ABI1 and ABI2 are names, aliases or descriptor files.

Without --struct or --file, compares every struct sprig knows for NetBSD
(struct stat, struct timespec, struct dirent, the sysproxy bodies) and
every syscall argument struct. --struct compares one of those (or
struct sys_NAME_args); --file compares the named structs of a C header
(see 'sprig abi layout' for what the C may hold).

Flags:
  --struct NAME        only this NetBSD struct, or sys_NAME_args
  --file FILE.h        the structs and unions of a C header instead
  --format text|json   output format (default text)

JSON output: {"a": ABI1, "b": ABI2, "differences": [{"what", "item",
"a", "b"}]}, where what is "descriptor", "struct" or "syscall", item
names the field (descriptor key, "struct stat: st_ino", ...) and a and b
are the two values as text. "No differences" is an empty list (and the
text output says so); the exit status is 0 either way.
`,
}

func abiDiffCommand() *command {
	return &command{
		name:    "diff",
		summary: "list what differs between two ABIs: scalars, struct layouts, syscall slots",
		doc:     abiDiffDoc,
		run:     runABIDiff,
	}
}

// difference is one line of 'sprig abi diff'.
type difference struct {
	What string `json:"what"`
	Item string `json:"item"`
	A    string `json:"a"`
	B    string `json:"b"`
}

type diffOut struct {
	A           string       `json:"a"`
	B           string       `json:"b"`
	Differences []difference `json:"differences"`
}

// diffFlags are the flags of 'sprig abi diff'.
type diffFlags struct {
	format     format
	structName string
	file       string
}

func (v *diffFlags) flagSet() *flag.FlagSet {
	fs := newFlagSet(abiDiffDoc.path)
	v.format = formatText
	fs.Var(&v.format, "format", "")
	fs.StringVar(&v.structName, "struct", "", "")
	fs.StringVar(&v.file, "file", "", "")
	return fs
}

func runABIDiff(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var v diffFlags
	fs := v.flagSet()
	f, structName, file := v.format, &v.structName, &v.file
	pos, done, code := parseFlags(fs, args, abiDiffDoc, stdout, stderr)
	f = v.format
	if done {
		return code
	}
	switch {
	case len(pos) < 2:
		return abiDiffDoc.usageError(stderr, "want two ABIs")
	case len(pos) > 2:
		return abiDiffDoc.usageError(stderr, "unexpected argument %q", pos[2])
	case *structName != "" && *file != "":
		return abiDiffDoc.usageError(stderr, "--struct and --file cannot be used together")
	}
	var ds [2]*abi.Descriptor
	for i, n := range pos {
		d, err := abi.Resolve(n)
		if err != nil {
			return abiDiffDoc.abiError(stderr, err)
		}
		ds[i] = d
	}
	a, b := ds[0], ds[1]
	out := &diffOut{A: a.Name, B: b.Name, Differences: []difference{}}
	add := func(what, item string, av, bv any) {
		as, bs := fmt.Sprint(av), fmt.Sprint(bv)
		if as != bs {
			out.Differences = append(out.Differences, difference{What: what, Item: item, A: as, B: bs})
		}
	}
	if *file == "" && *structName == "" {
		diffDescriptors(a, b, add)
	}

	var structs []*abi.Type
	var syscalls []*netbsd.Syscall
	switch {
	case *file != "":
		decls, err := abi.ParseCFile(*file)
		if errors.Is(err, abi.ErrCSyntax) {
			return abiDiffDoc.badName(stderr, err)
		}
		if err != nil {
			return abiDiffDoc.failure(stderr, err)
		}
		if structs, err = pickStructs(decls, ""); err != nil {
			return abiDiffDoc.badName(stderr, err)
		}
	case *structName != "":
		n := strings.TrimPrefix(strings.Join(strings.Fields(*structName), " "), "struct ")
		if sc := netbsd.LookupName(strings.TrimSuffix(strings.TrimPrefix(n, "sys_"), "_args")); sc != nil && strings.HasPrefix(n, "sys_") {
			syscalls = []*netbsd.Syscall{sc}
			break
		}
		t, err := findStruct(*structName)
		if err != nil {
			return abiDiffDoc.badName(stderr, err)
		}
		structs = []*abi.Type{t}
	default:
		structs = netbsd.StructTypes()
		syscalls = netbsd.Syscalls()
	}
	for _, t := range structs {
		diffStruct(a, b, t, add)
	}
	for _, sc := range syscalls {
		diffSyscall(a, b, sc, add)
	}

	var buf bytes.Buffer
	if f == formatJSON {
		if err := writeJSON(&buf, out); err != nil {
			return abiDiffDoc.failure(stderr, err)
		}
		return abiDiffDoc.output(stdout, stderr, &buf)
	}
	if len(out.Differences) == 0 {
		fmt.Fprintf(&buf, "%s and %s: no differences\n", a.Name, b.Name)
		return abiDiffDoc.output(stdout, stderr, &buf)
	}
	tw := newTable(&buf)
	fmt.Fprintf(tw, "ITEM\t%s\t%s\n", a.Name, b.Name)
	for _, d := range out.Differences {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Item, d.A, d.B)
	}
	tw.Flush()
	fmt.Fprintf(&buf, "\n%d differences\n", len(out.Differences))
	return abiDiffDoc.output(stdout, stderr, &buf)
}

// diffDescriptors compares what the descriptors say about data.
func diffDescriptors(a, b *abi.Descriptor, add func(what, item string, av, bv any)) {
	add("descriptor", "endian", a.Endian, b.Endian)
	add("descriptor", "char_signed", a.CharSigned, b.CharSigned)
	add("descriptor", "register_t_signed", a.RegisterTSigned, b.RegisterTSigned)
	add("descriptor", "unnamed_bitfields_align", a.UnnamedBitFieldsAlign, b.UnnamedBitFieldsAlign)
	for _, s := range scalarTypes {
		sa, sb := a.Scalar(s.base), b.Scalar(s.base)
		add("descriptor", s.base.String(), scalarText(sa), scalarText(sb))
	}
}

// scalarText spells a size and alignment ("8/4"), "-" for absent.
func scalarText(s abi.Scalar) string {
	if s == (abi.Scalar{}) {
		return "-"
	}
	return fmt.Sprintf("size %d align %d", s.Size, s.Align)
}

// diffStruct compares one struct's layouts member by member.
func diffStruct(a, b *abi.Descriptor, t *abi.Type, add func(what, item string, av, bv any)) {
	la, ea := abi.NewLayout(a, t)
	lb, eb := abi.NewLayout(b, t)
	if ea != nil || eb != nil {
		add("struct", t.Name(), layoutState(ea), layoutState(eb))
		return
	}
	add("struct", t.Name()+": size", la.Size, lb.Size)
	add("struct", t.Name()+": align", la.Align, lb.Align)
	leavesB := map[string]abi.Leaf{}
	for _, lf := range lb.Leaves() {
		leavesB[lf.Path] = lf
	}
	for _, x := range la.Leaves() {
		y := leavesB[x.Path]
		ax, by := placeText(leafPlace(x)), placeText(leafPlace(y))
		if x.BitField() && a.Endian != b.Endian {
			// The same number is another bit in the other bit order.
			ax, by = ax+" "+bitOrder(a), by+" "+bitOrder(b)
		}
		add("struct", t.Name()+": "+x.Path, ax, by)
	}
}

// bitOrder says where bit 0 of a byte is on d.
func bitOrder(d *abi.Descriptor) string {
	if d.BigEndian() {
		return "(msb first)"
	}
	return "(lsb first)"
}

func leafPlace(lf abi.Leaf) *placeOut {
	return &placeOut{Offset: lf.Offset, Size: lf.Size, BitOffset: lf.BitOffset, Bits: lf.Bits}
}

func layoutState(err error) string {
	if err != nil {
		return "not available: " + err.Error()
	}
	return "available"
}

// diffSyscall compares a syscall's argument slots.
func diffSyscall(a, b *abi.Descriptor, sc *netbsd.Syscall, add func(what, item string, av, bv any)) {
	sa, sb := netbsd.LayoutsFor(a).Args(sc.Num), netbsd.LayoutsFor(b).Args(sc.Num)
	n := argsName(sc)
	add("syscall", n+": size", sa.Size, sb.Size)
	for i, x := range sa.Slots {
		y := sb.Slots[i]
		add("syscall", n+": "+x.Name, slotText(x), slotText(y))
	}
}

func slotText(s abi.Slot) string {
	return fmt.Sprintf("slot %d+%d datum %d+%d", s.Offset, s.Size, s.Datum.Offset, s.Datum.Size)
}
