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
)

var abiLayoutDoc = doc{
	path: "sprig abi layout",
	usage: `  sprig abi layout FILE.h [--struct NAME] [--abi LIST|all] [--format text|json]
  sprig abi layout --decl 'struct s {...};' [--struct NAME] [--abi LIST|all] [--format text|json]
`,
	details: `Reads C declarations of structs, unions, enums and typedefs (from a header
file, or from --decl) and shows each named struct's layout on every chosen
ABI side by side: a cross-ABI pahole. Each row is a scalar member (nested
ones as a.b, array elements of structs as a[1].b) with its offset and size
per ABI as OFFSET+SIZE, or for a bit-field BYTE.BIT:WIDTH (the first bit
counted in the ABI's bit order: from the least significant bit on
little-endian machines, from the most significant on big-endian ones).
Rows whose offset or size differ between the ABIs are marked with *
(a bit-field also when the ABIs' byte orders differ, since its bits then
sit at the other end of the byte), and so are the struct's size and
alignment when they differ.

The C may use GNU attributes (packed, aligned(N)), _Alignas, bit-fields,
anonymous members, enums, typedef chains, arrays of any rank, and the
standard typedefs (int8_t ... uint64_t, size_t, ssize_t, intptr_t,
uintptr_t, ptrdiff_t, bool, NetBSD's register_t), which are laid out per
ABI. Function prototypes and inline functions are skipped. #include finds
files next to FILE.h and the standard headers sprig knows; other headers
(NetBSD's sys/types.h) must be replaced by the typedefs they would give.
What would make one declaration differ between ABIs is refused with the
reason: sizeof(long) in a constant, a test of __LP64__, #pragma pack. (sizeof
of a type that is the same on every ABI, such as uint32_t, is accepted.)

Flags:
  --decl TEXT          the C declarations, instead of FILE.h
  --struct NAME        only this struct or union ("stat", "struct stat",
                       or a typedef name)
  --abi LIST|all       comma-separated ABI names, aliases or descriptor
                       files (default and all: every registered ABI)
  --format text|json   output format (default text)

JSON output: {"abis": [NAME...], "structs": [{"struct", "differs",
  "layouts": [{"abi", "size", "align", "error"}],
  "fields": [{"path", "type", "differs", "at": [{"offset", "size",
  "bit_offset", "bits"} or null, one per ABI]}]}]}. A struct that an ABI
cannot lay out (an __int128 on i386) has that ABI's "error" set and null
entries.

A file that cannot be read is a failure (exit status 1); C that cannot be
parsed, unknown struct and ABI names are usage errors (exit status 2).
`,
}

func abiLayoutCommand() *command {
	return &command{
		name:    "layout",
		summary: "lay out the structs of a C header on every ABI side by side",
		doc:     abiLayoutDoc,
		run:     runABILayout,
	}
}

// abiList is the value of an --abi flag: comma-separated names or files.
type abiList []string

func (l *abiList) String() string { return strings.Join(*l, ",") }

func (l *abiList) Set(s string) error {
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			*l = append(*l, n)
		}
	}
	return nil
}

var errDuplicateABI = errors.New("an ABI is named twice")

// abiError reports an error from abi.Resolve: an unknown or repeated name
// is a usage error, an unreadable or invalid descriptor file a failure.
func (d doc) abiError(stderr io.Writer, err error) int {
	if errors.Is(err, abi.ErrUnknownABI) || errors.Is(err, errDuplicateABI) {
		return d.badName(stderr, err)
	}
	return d.failure(stderr, err)
}

// resolveABIs turns an --abi list into descriptors; an empty list or
// "all" is every registered ABI.
func resolveABIs(names []string) ([]*abi.Descriptor, error) {
	if len(names) == 0 || len(names) == 1 && names[0] == "all" {
		return abi.All(), nil
	}
	var out []*abi.Descriptor
	seen := map[string]bool{}
	for _, n := range names {
		d, err := abi.Resolve(n)
		if err != nil {
			return nil, err
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("%w: %s", errDuplicateABI, d.Name)
		}
		seen[d.Name] = true
		out = append(out, d)
	}
	return out, nil
}

// parseDecls reads C declarations from a file or a --decl string.
func parseDecls(file, decl string) (*abi.Decls, error) {
	if decl != "" {
		return abi.ParseC("--decl", []byte(decl))
	}
	return abi.ParseCFile(file)
}

// pickStructs returns the named struct, or every named struct of ds.
func pickStructs(ds *abi.Decls, name string) ([]*abi.Type, error) {
	all := ds.Structs()
	if name == "" {
		if len(all) == 0 {
			return nil, errors.New("the declarations define no named struct or union")
		}
		return all, nil
	}
	if t, ok := ds.Type(name); ok && (t.Kind() == abi.KindStruct || t.Kind() == abi.KindUnion) {
		return []*abi.Type{t}, nil
	}
	var known []string
	for _, t := range all {
		known = append(known, t.Name())
	}
	return nil, fmt.Errorf("no struct or union %q in the declarations; they define: %s", name, orDash(strings.Join(known, ", ")))
}

// layoutFlags are the flags of 'sprig abi layout'.
type layoutFlags struct {
	format     format
	decl       string
	structName string
	abis       abiList
}

func (v *layoutFlags) flagSet() *flag.FlagSet {
	fs := newFlagSet(abiLayoutDoc.path)
	v.format = formatText
	fs.Var(&v.format, "format", "")
	fs.StringVar(&v.decl, "decl", "", "")
	fs.StringVar(&v.structName, "struct", "", "")
	fs.Var(&v.abis, "abi", "")
	return fs
}

func runABILayout(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var v layoutFlags
	fs := v.flagSet()
	f, decl, structName := &v.format, &v.decl, &v.structName
	abis := &v.abis
	pos, done, code := parseFlags(fs, args, abiLayoutDoc, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) == 0 && *decl == "":
		return abiLayoutDoc.usageError(stderr, "missing FILE.h or --decl")
	case len(pos) > 0 && *decl != "":
		return abiLayoutDoc.usageError(stderr, "give FILE.h or --decl, not both")
	case len(pos) > 1:
		return abiLayoutDoc.usageError(stderr, "unexpected argument %q", pos[1])
	}
	file := ""
	if len(pos) == 1 {
		file = pos[0]
	}
	ds, err := parseDecls(file, *decl)
	switch {
	case errors.Is(err, abi.ErrCSyntax):
		return abiLayoutDoc.badName(stderr, err)
	case err != nil:
		return abiLayoutDoc.failure(stderr, err)
	}
	structs, err := pickStructs(ds, *structName)
	if err != nil {
		return abiLayoutDoc.badName(stderr, err)
	}
	descs, err := resolveABIs(*abis)
	if err != nil {
		return abiLayoutDoc.abiError(stderr, err)
	}
	out := crossLayouts(descs, structs)
	var b bytes.Buffer
	if *f == formatJSON {
		if err := writeJSON(&b, out); err != nil {
			return abiLayoutDoc.failure(stderr, err)
		}
	} else {
		for _, n := range ds.Notes {
			fmt.Fprintf(stderr, "sprig abi layout: note: %s\n", n)
		}
		writeCrossLayouts(&b, out)
	}
	return abiLayoutDoc.output(stdout, stderr, &b)
}

// JSON shapes of 'sprig abi layout'; add keys, never rename or remove.
type (
	crossOut struct {
		ABIs    []string      `json:"abis"`
		Structs []crossStruct `json:"structs"`
	}
	crossStruct struct {
		Struct  string        `json:"struct"`
		Differs bool          `json:"differs"`
		Layouts []crossLayout `json:"layouts"`
		Fields  []crossField  `json:"fields"`
	}
	crossLayout struct {
		ABI   string `json:"abi"`
		Size  int    `json:"size"`
		Align int    `json:"align"`
		Error string `json:"error,omitempty"`
	}
	crossField struct {
		Path    string      `json:"path"`
		Type    string      `json:"type"`
		Differs bool        `json:"differs"`
		At      []*placeOut `json:"at"`
	}
	placeOut struct {
		Offset    int `json:"offset"`
		Size      int `json:"size"`
		BitOffset int `json:"bit_offset"`
		Bits      int `json:"bits"`
	}
)

func crossLayouts(descs []*abi.Descriptor, structs []*abi.Type) *crossOut {
	out := &crossOut{}
	for _, d := range descs {
		out.ABIs = append(out.ABIs, d.Name)
	}
	for _, t := range structs {
		cs := crossStruct{Struct: t.Name()}
		idx := map[string]int{}
		var first *crossLayout
		for i, d := range descs {
			l, err := abi.NewLayout(d, t)
			if err != nil {
				cs.Layouts = append(cs.Layouts, crossLayout{ABI: d.Name, Error: err.Error()})
				cs.Differs = true
				continue
			}
			cl := crossLayout{ABI: d.Name, Size: l.Size, Align: l.Align}
			cs.Layouts = append(cs.Layouts, cl)
			if first == nil {
				first = &cs.Layouts[len(cs.Layouts)-1]
			} else if cl.Size != first.Size || cl.Align != first.Align {
				cs.Differs = true
			}
			for _, lf := range l.Leaves() {
				k, ok := idx[lf.Path]
				if !ok {
					k = len(cs.Fields)
					idx[lf.Path] = k
					cs.Fields = append(cs.Fields, crossField{Path: lf.Path, Type: lf.Type.Name(), At: make([]*placeOut, len(descs))})
				}
				cs.Fields[k].At[i] = &placeOut{Offset: lf.Offset, Size: lf.Size, BitOffset: lf.BitOffset, Bits: lf.Bits}
			}
		}
		for k := range cs.Fields {
			var ref *placeOut
			var refEndian abi.Endian
			for i, p := range cs.Fields[k].At {
				switch {
				case p == nil:
					cs.Fields[k].Differs = true
				case ref == nil:
					ref, refEndian = p, descs[i].Endian
				case *p != *ref:
					cs.Fields[k].Differs = true
				case p.Bits > 0 && descs[i].Endian != refEndian:
					// The same position in each ABI's bit order is
					// another bit of the byte.
					cs.Fields[k].Differs = true
				}
			}
			cs.Differs = cs.Differs || cs.Fields[k].Differs
		}
		if cs.Fields == nil {
			cs.Fields = []crossField{}
		}
		out.Structs = append(out.Structs, cs)
	}
	return out
}

func placeText(p *placeOut) string {
	switch {
	case p == nil:
		return "-"
	case p.Bits > 0:
		return fmt.Sprintf("%d.%d:%d", p.Offset, p.BitOffset, p.Bits)
	}
	return fmt.Sprintf("%d+%d", p.Offset, p.Size)
}

func mark(b bool) string {
	if b {
		return "*"
	}
	return ""
}

func writeCrossLayouts(b *bytes.Buffer, out *crossOut) {
	for i, cs := range out.Structs {
		if i > 0 {
			b.WriteString("\n")
		}
		note := "the same on every ABI shown"
		if cs.Differs {
			note = "* marks what differs between ABIs"
		}
		fmt.Fprintf(b, "%s (%s)\n", cs.Struct, note)
		tw := newTable(b)
		fmt.Fprintf(tw, "\tFIELD\tTYPE\t%s\n", strings.Join(out.ABIs, "\t"))
		for _, f := range cs.Fields {
			cells := make([]string, len(f.At))
			for k, p := range f.At {
				cells[k] = placeText(p)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mark(f.Differs), f.Path, f.Type, strings.Join(cells, "\t"))
		}
		sizes, aligns := make([]string, len(cs.Layouts)), make([]string, len(cs.Layouts))
		sizeDiff, alignDiff := false, false
		for k, l := range cs.Layouts {
			if l.Error != "" {
				sizes[k], aligns[k] = "-", "-"
				sizeDiff, alignDiff = true, true
				continue
			}
			sizes[k], aligns[k] = fmt.Sprint(l.Size), fmt.Sprint(l.Align)
			if l.Size != cs.Layouts[0].Size {
				sizeDiff = true
			}
			if l.Align != cs.Layouts[0].Align {
				alignDiff = true
			}
		}
		fmt.Fprintf(tw, "%s\t(sizeof)\t\t%s\n", mark(sizeDiff), strings.Join(sizes, "\t"))
		fmt.Fprintf(tw, "%s\t(alignof)\t\t%s\n", mark(alignDiff), strings.Join(aligns, "\t"))
		tw.Flush()
		for _, l := range cs.Layouts {
			if l.Error != "" {
				fmt.Fprintf(b, "  %s: %s\n", l.ABI, l.Error)
			}
		}
	}
}
