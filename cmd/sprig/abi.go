package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rumpsprig/sprig/abi"
)

var abiDoc = doc{
	path:  "sprig abi",
	usage: "  sprig abi SUBCOMMAND [arguments]\n",
	details: `Shows the C ABI descriptors sprig knows (byte order, sizes and in-struct
alignments of C's base types, signedness of char and register_t) and how
NetBSD's structs and syscall argument structs are laid out for each; lays
out the structs of a C header on many ABIs side by side; lists what
differs between two ABIs. docs/abi-json.md describes the descriptor file
format for ABIs of your own.
`,
}

func abiCommand() *command {
	return &command{
		name:    "abi",
		summary: "show C ABI descriptors and NetBSD struct and syscall layouts",
		doc:     abiDoc,
		subs:    []*command{abiListCommand(), abiShowCommand(), abiLayoutCommand(), abiDiffCommand()},
	}
}

var abiListDoc = doc{
	path:  "sprig abi list",
	usage: "  sprig abi list [--format text|json]\n",
	details: `Lists every registered ABI descriptor, one row each: its name, aliases,
the MACHINE word a sysproxy server puts in its banner, MACHINE_ARCH, byte
order, data model (ILP32 or LP64), whether plain char is signed, the
width and signedness of register_t, and the cross compiler the built-in
numbers were verified against.

With --format json, prints a JSON array of the descriptors in the
descriptor file format (docs/abi-json.md); a file holding one of them, as
an object or as a one-element array, is a descriptor file that
'sprig abi show FILE' reads back (rename it before changing it: a
descriptor that differs from a built-in one may not take its name).

Flags:
  --format text|json   output format (default text)
`,
}

func abiListCommand() *command {
	return &command{
		name:    "list",
		summary: "list the registered ABI descriptors",
		doc:     abiListDoc,
		run:     runABIList,
	}
}

func runABIList(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(abiListDoc.path)
	f := formatText
	fs.Var(&f, "format", "")
	pos, done, code := parseFlags(fs, args, abiListDoc, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return abiListDoc.usageError(stderr, "unexpected argument %q", pos[0])
	}
	var b bytes.Buffer
	ds := abi.All()
	if f == formatJSON {
		if err := writeJSON(&b, ds); err != nil {
			return abiListDoc.failure(stderr, err)
		}
		return abiListDoc.output(stdout, stderr, &b)
	}
	tw := newTable(&b)
	fmt.Fprintln(tw, "NAME\tALIASES\tMACHINE\tMACHINE_ARCH\tENDIAN\tMODEL\tCHAR\tREGISTER_T\tCOMPILER")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			d.Name, orDash(strings.Join(d.Aliases, ",")), orDash(d.Machine), orDash(d.MachineArch),
			d.Endian, dataModel(d), signedness(d.CharSigned), registerT(d),
			orDash(strings.Join(d.Compiler, " ")))
	}
	tw.Flush()
	return abiListDoc.output(stdout, stderr, &b)
}

// dataModel names the C data model of d: ILP32, LP64, or LLP64, or
// spells out the widths of long and pointers when it is none of them.
func dataModel(d *abi.Descriptor) string {
	switch l, p := d.Long.Size, d.Pointer.Size; {
	case l == 4 && p == 4:
		return "ILP32"
	case l == 8 && p == 8:
		return "LP64"
	case l == 4 && p == 8:
		return "LLP64"
	default:
		return fmt.Sprintf("long%d/ptr%d", 8*l, 8*p)
	}
}

func signedness(signed bool) string {
	if signed {
		return "signed"
	}
	return "unsigned"
}

// registerT describes NetBSD's register_t on d, as "32-bit signed".
func registerT(d *abi.Descriptor) string {
	return fmt.Sprintf("%d-bit %s", 8*d.RegisterT.Size, signedness(d.RegisterTSigned))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
