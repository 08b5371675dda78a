package main

import (
	"bytes"
	"context"
	"flag"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eachCommand calls f for every command of the tree with its words
// ("matrix", "merge").
func eachCommand(cmds []*command, words []string, f func(c *command, words []string)) {
	for _, c := range cmds {
		w := append(append([]string(nil), words...), c.name)
		f(c, w)
		eachCommand(c.subs, w, f)
	}
}

// flagsOf runs `sprig WORDS -h` and returns the flag set the command
// made, or nil when it parses no flags.
func flagsOf(t *testing.T, words []string) *flag.FlagSet {
	t.Helper()
	var made *flag.FlagSet
	flagSetMade = func(fs *flag.FlagSet) { made = fs }
	defer func() { flagSetMade = nil }()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(append([]string(nil), words...), "-h"), &out, &errb)
	require.Equal(t, exitOK, code, "sprig %s -h: %s", strings.Join(words, " "), errb.String())
	return made
}

var usageFlag = regexp.MustCompile(`--([a-z][a-z0-9-]*)`)

// Every flag a command defines is in its usage line and described in its
// help, and every flag its usage line names exists.
func TestEveryUsageLineListsEveryFlag(t *testing.T) {
	checked := 0
	eachCommand(commands(), nil, func(c *command, words []string) {
		if c.run == nil {
			return
		}
		fs := flagsOf(t, words)
		if fs == nil {
			return // no flags (sprig help)
		}
		checked++
		path := "sprig " + strings.Join(words, " ")
		defined := map[string]bool{}
		fs.VisitAll(func(f *flag.Flag) {
			defined[f.Name] = true
			assert.Regexp(t, `--`+regexp.QuoteMeta(f.Name)+`\b([^-]|$)`, c.doc.usage, "%s: the usage line lacks --%s", path, f.Name)
			assert.Regexp(t, `(?m)^ +--`+regexp.QuoteMeta(f.Name)+`\b([^-]|$)`, c.doc.details, "%s: the help does not describe --%s", path, f.Name)
		})
		for _, m := range usageFlag.FindAllStringSubmatch(c.doc.usage, -1) {
			if isOtherCommand(c, m[1]) {
				continue
			}
			assert.True(t, defined[m[1]], "%s: the usage line names --%s, which it does not define", path, m[1])
		}
	})
	assert.GreaterOrEqual(t, checked, 10, "commands with flags")
}

// isOtherCommand tells whether c's usage names flag in a line of one of
// its subcommands (matrix's usage shows matrix merge's form too).
func isOtherCommand(c *command, flag string) bool {
	for _, s := range c.subs {
		if strings.Contains(s.doc.usage, "--"+flag) {
			return true
		}
	}
	return false
}

// Every "Run 'sprig help …'" hint a command can print works: sprig help
// WORDS prints the command's help for every command of the tree.
func TestEveryHelpHintWorks(t *testing.T) {
	eachCommand(commands(), nil, func(c *command, words []string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"help"}, words...), &out, &errb)
		require.Equal(t, exitOK, code, "sprig help %s: %s", strings.Join(words, " "), errb.String())
		assert.Equal(t, c.help(), out.String())
		// A usage error points at exactly this help.
		if c.run != nil && c.doc.usage != "" {
			var e bytes.Buffer
			c.doc.usageError(&e, "x")
			assert.Contains(t, e.String(), "Run 'sprig help "+strings.Join(words, " ")+"' for details.")
		}
	})
}
