package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

var helpDoc = doc{
	path:  "sprig help",
	usage: "  sprig help [COMMAND [SUBCOMMAND]]\n",
	details: `Prints the list of commands, or the help of one command or subcommand.
`,
}

func helpCommand() *command {
	return &command{
		name:    "help",
		summary: "show help for sprig or one of its commands",
		doc:     helpDoc,
		run:     runHelp,
	}
}

func runHelp(_ context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(stdout, mainUsage())
		return exitOK
	case isHelpFlag(args[0]):
		fmt.Fprint(stdout, helpDoc.help())
		return exitOK
	}
	var cmd *command
	cmds := commands()
	for _, a := range args {
		c := findCommand(cmds, a)
		if c == nil {
			what, text := "command", mainUsage()
			if cmd != nil {
				what, text = "subcommand", cmd.help()
			}
			name := a
			if cmd != nil {
				name = strings.TrimPrefix(cmd.doc.path, "sprig ") + " " + a
			}
			fmt.Fprintf(stderr, "sprig help: unknown %s %q\n\n%s", what, name, text)
			return exitUsage
		}
		cmd, cmds = c, c.subs
	}
	fmt.Fprint(stdout, cmd.help())
	return exitOK
}

// flagText fills s into lines under a flag's description column (24
// spaces in, at most 78 wide), for lists made at run time.
func flagText(s string) string {
	const indent, width = 24, 78
	var b strings.Builder
	line := 0
	for _, word := range strings.Fields(s) {
		if line > 0 && line+1+len(word) > width {
			b.WriteByte('\n')
			line = 0
		}
		if line == 0 {
			b.WriteString(strings.Repeat(" ", indent))
			line = indent
		} else {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String()
}
