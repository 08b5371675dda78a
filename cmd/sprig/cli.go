package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Exit statuses of every command.
const (
	exitOK    = 0 // the command did what was asked
	exitFail  = 1 // it could not (a bad descriptor file, a failed write)
	exitUsage = 2 // the command line is wrong: see doc.go
	// exitError: nothing failed, but something could not be judged
	// because of where it ran (a deadline, a cancelled run): a busy
	// machine, not a bug in sprig or the server.
	exitError = 3
	// exitInterrupted: SIGINT stopped the command (128 + SIGINT, as a
	// shell reports it).
	exitInterrupted = 130
)

// A command is one word of sprig's command line. A leaf command has run;
// a group (such as abi) has subs instead and the dispatcher picks one of
// them by the next word; a command with both (matrix) runs unless the
// next word names one of its subs.
type command struct {
	name    string
	summary string // one line, lower case, no final period
	doc     doc
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	subs    []*command
}

// doc is a command's help text.
type doc struct {
	path string // the full command, "sprig abi show"
	// usage is the synopsis, one "  sprig ..." line per form. It follows
	// "Usage:" in the help and is what a usage error prints.
	usage string
	// details is the rest of the help: what the command does, its flags.
	details string
}

// help returns the text -h and 'sprig help' print.
func (d doc) help() string {
	return "Usage:\n" + d.usage + "\n" + d.details
}

// usageError prints "path: message", the synopsis and a pointer to the
// help to stderr and returns the usage exit status.
func (d doc) usageError(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "%s: %s\n\nUsage:\n%s\nRun 'sprig help %s' for details.\n",
		d.path, d.once(fmt.Sprintf(format, a...)), d.usage, strings.TrimPrefix(d.path, "sprig "))
	return exitUsage
}

// failure prints "path: error" to stderr and returns the failure exit
// status.
func (d doc) failure(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "%s: %s\n", d.path, d.once(err.Error()))
	return exitFail
}

// once drops from msg the leading "word: " prefixes that repeat a word of
// the command's path ("sprig matrix: matrix: config: ..." says matrix
// once), so an error from the package behind a command names it once.
func (d doc) once(msg string) string {
	words := strings.Fields(d.path)
	for again := true; again; {
		again = false
		for _, w := range words {
			if rest, ok := strings.CutPrefix(msg, w+": "); ok {
				msg, again = rest, true
			}
		}
	}
	return msg
}

// badName prints "path: error" to stderr for a name (of an ABI, struct or
// syscall) that names nothing, and returns the usage exit status. The
// error lists the known names, which help more than the synopsis would.
func (d doc) badName(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "%s: %s\n", d.path, d.once(err.Error()))
	return exitUsage
}

// output writes a finished result to stdout, reporting a failed write.
func (d doc) output(stdout, stderr io.Writer, b *bytes.Buffer) int {
	if _, err := stdout.Write(b.Bytes()); err != nil {
		return d.failure(stderr, err)
	}
	return exitOK
}

// commands is sprig's command table, in the order help lists it. Each
// command lives in its own file and is added here with one line.
func commands() []*command {
	return []*command{
		runCommand(),
		matrixCommand(),
		serveCommand(),
		proxyCommand(),
		benchCommand(),
		abiCommand(),
		helpCommand(),
		versionCommand(),
	}
}

// run is sprig's main program: args are the words after "sprig", and the
// result is the exit status. Tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "sprig: missing command\n\n%s", mainUsage())
		return exitUsage
	}
	if isHelpFlag(args[0]) {
		fmt.Fprint(stdout, mainUsage())
		return exitOK
	}
	if strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "sprig: flag provided but not defined: %s\n\n%s", args[0], mainUsage())
		return exitUsage
	}
	cmd := findCommand(commands(), args[0])
	if cmd == nil {
		fmt.Fprintf(stderr, "sprig: unknown command %q\n\n%s", args[0], mainUsage())
		return exitUsage
	}
	return dispatch(ctx, cmd, "sprig "+cmd.name, args[1:], stdout, stderr)
}

// dispatch runs cmd, whose full name is path, or for a group the
// subcommand named by args[0].
func dispatch(ctx context.Context, cmd *command, path string, args []string, stdout, stderr io.Writer) int {
	if len(cmd.subs) == 0 {
		return cmd.run(ctx, args, stdout, stderr)
	}
	if cmd.run != nil {
		// A command that runs and has subcommands (matrix, matrix merge):
		// a subcommand's name first picks it, anything else is the
		// command's own arguments.
		if len(args) > 0 {
			if sub := findCommand(cmd.subs, args[0]); sub != nil {
				return dispatch(ctx, sub, path+" "+sub.name, args[1:], stdout, stderr)
			}
		}
		return cmd.run(ctx, args, stdout, stderr)
	}
	switch {
	case len(args) == 0:
		fmt.Fprintf(stderr, "%s: missing subcommand\n\n%s", path, cmd.help())
		return exitUsage
	case isHelpFlag(args[0]):
		fmt.Fprint(stdout, cmd.help())
		return exitOK
	case strings.HasPrefix(args[0], "-"):
		fmt.Fprintf(stderr, "%s: flag provided but not defined: %s\n\n%s", path, args[0], cmd.help())
		return exitUsage
	}
	sub := findCommand(cmd.subs, args[0])
	if sub == nil {
		fmt.Fprintf(stderr, "%s: unknown subcommand %q\n\n%s", path, args[0], cmd.help())
		return exitUsage
	}
	return dispatch(ctx, sub, path+" "+sub.name, args[1:], stdout, stderr)
}

func findCommand(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "-help" || s == "--help"
}

// help returns the text 'sprig help' and -h print for cmd; a group's
// includes its list of subcommands.
func (c *command) help() string {
	if c.run != nil {
		return c.doc.help() // its usage shows its subcommands' forms too
	}
	var b strings.Builder
	b.WriteString(c.doc.help())
	b.WriteString("\nSubcommands:\n")
	writeCommandList(&b, c.subs)
	fmt.Fprintf(&b, "\nRun 'sprig help %s SUBCOMMAND' or '%s SUBCOMMAND -h' for details.\n",
		strings.TrimPrefix(c.doc.path, "sprig "), c.doc.path)
	return b.String()
}

func writeCommandList(w io.Writer, cmds []*command) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
}

// mainUsage is the text of `sprig help`, listing the commands that exist.
func mainUsage() string {
	var b strings.Builder
	b.WriteString(`Usage:
  sprig COMMAND [arguments]

Sprig is a toolkit for NetBSD rump sysproxy clients across C ABIs.

Commands:
`)
	writeCommandList(&b, commands())
	b.WriteString(`
Run 'sprig help COMMAND' or 'sprig COMMAND -h' for details.

Exit status: 0 success, 1 failure, 2 usage error (unknown command, flag
or name, missing or extra argument), 3 nothing failed but something could
not be judged where it ran (a deadline on a busy machine), 130 interrupted.
`)
	return b.String()
}

// parseFlags parses args for the leaf command d with fs and returns the
// positional arguments. Unlike fs.Parse, it lets flags follow positional
// arguments ("sprig abi show i386 --struct stat"); "--" ends the flags.
// When done is true the command must return code at once: -h printed the
// help to stdout (0), or a bad flag printed an error and the synopsis to
// stderr (2).
func parseFlags(fs *flag.FlagSet, args []string, d doc, stdout, stderr io.Writer) (pos []string, done bool, code int) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, d.help())
			return nil, true, exitOK
		}
		if err != nil {
			return nil, true, d.usageError(stderr, "%v", err)
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), false, exitOK
		}
		if len(rest) == 0 {
			return pos, false, exitOK
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet makes the flag set of the command whose full name is path;
// every command makes its flags with it, so a test can see them all.
func newFlagSet(path string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	if flagSetMade != nil {
		flagSetMade(fs)
	}
	return fs
}

// flagSetMade, when set (by tests), sees every flag set a command makes.
var flagSetMade func(*flag.FlagSet)

// newTable returns a tabwriter for sprig's column output; call Flush.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// format is the value of a --format flag.
type format string

const (
	formatText     format = "text"
	formatJSON     format = "json"
	formatJUnit    format = "junit"
	formatMarkdown format = "markdown"
)

func (f *format) String() string { return string(*f) }

func (f *format) Set(s string) error {
	switch format(s) {
	case formatText, formatJSON:
		*f = format(s)
		return nil
	}
	return errors.New("want text or json")
}

// formatChoice is a --format flag that takes one of a command's formats.
type formatChoice struct {
	f    *format
	want []format
}

// formatFlag returns a flag.Value setting f to one of want.
func formatFlag(f *format, want ...format) flag.Value { return &formatChoice{f, want} }

func (c *formatChoice) String() string {
	if c.f == nil {
		return ""
	}
	return string(*c.f)
}

func (c *formatChoice) Set(s string) error {
	var names []string
	for _, w := range c.want {
		if string(w) == s {
			*c.f = w
			return nil
		}
		names = append(names, string(w))
	}
	return fmt.Errorf("want %s", strings.Join(names, ", "))
}
