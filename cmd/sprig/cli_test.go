package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sprig runs the CLI in-process and returns its exit status and output.
func sprig(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpListsExistingCommands(t *testing.T) {
	code, out, errOut := sprig(t, "help")
	require.Equal(t, exitOK, code)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "Usage:\n  sprig COMMAND [arguments]\n")
	for _, c := range commands() {
		assert.Regexp(t, `(?m)^  `+c.name+` +`+c.summary+`$`, out)
	}
	_, list, _ := strings.Cut(out, "Commands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	for _, line := range strings.Split(list, "\n") {
		name := strings.Fields(line)[0]
		assert.NotNil(t, findCommand(commands(), name), "help must list only commands that exist: %q", name)
	}

	for _, flag := range []string{"-h", "-help", "--help"} {
		code, out2, _ := sprig(t, flag)
		assert.Equal(t, exitOK, code, flag)
		assert.Equal(t, out, out2, flag)
	}
}

func TestHelpForCommands(t *testing.T) {
	code, out, _ := sprig(t, "help", "abi")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "sprig abi SUBCOMMAND")
	assert.Regexp(t, `(?m)^  list +list the registered ABI descriptors$`, out)
	assert.Regexp(t, `(?m)^  show +`, out)

	// 'sprig help X' and 'sprig X -h' print the same text, to stdout.
	for _, path := range [][]string{{"abi"}, {"abi", "list"}, {"abi", "show"}, {"version"}, {"help"}} {
		code, viaHelp, _ := sprig(t, append([]string{"help"}, path...)...)
		require.Equal(t, exitOK, code, path)
		code, viaFlag, errOut := sprig(t, append(path, "-h")...)
		require.Equal(t, exitOK, code, path)
		assert.Empty(t, errOut, path)
		assert.Equal(t, viaHelp, viaFlag, path)
		assert.True(t, strings.HasPrefix(viaHelp, "Usage:\n  sprig "+strings.Join(path, " ")), "%v: %q", path, viaHelp)
	}

	code, out, _ = sprig(t, "abi", "show", "i386", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "--syscall SYSCALL")
}

func TestHelpUnknown(t *testing.T) {
	code, out, errOut := sprig(t, "help", "nope")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, `sprig help: unknown command "nope"`)
	assert.Contains(t, errOut, "Commands:")

	code, _, errOut = sprig(t, "help", "abi", "nope")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown subcommand "abi nope"`)
	assert.Contains(t, errOut, "Subcommands:")
}

func TestUnknownCommand(t *testing.T) {
	code, out, errOut := sprig(t, "frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, `sprig: unknown command "frobnicate"`)
	assert.Contains(t, errOut, "Usage:\n  sprig COMMAND")
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "sprig: missing command"},
		{[]string{"--frob"}, "sprig: flag provided but not defined: --frob"},
		{[]string{"abi"}, "sprig abi: missing subcommand"},
		{[]string{"abi", "nope"}, `sprig abi: unknown subcommand "nope"`},
		{[]string{"abi", "--frob"}, "sprig abi: flag provided but not defined: --frob"},
		{[]string{"abi", "list", "extra"}, `sprig abi list: unexpected argument "extra"`},
		{[]string{"abi", "list", "--format", "xml"}, `sprig abi list: invalid value "xml" for flag -format: want text or json`},
		{[]string{"abi", "show"}, "sprig abi show: missing ABI"},
		{[]string{"abi", "show", "--struct", "stat"}, "sprig abi show: missing ABI"},
		{[]string{"abi", "show", "i386", "amd64"}, `sprig abi show: unexpected argument "amd64"`},
		{[]string{"abi", "show", "i386", "--frob"}, "sprig abi show: flag provided but not defined: -frob"},
		{[]string{"abi", "show", "i386", "--struct"}, "sprig abi show: flag needs an argument: -struct"},
		{[]string{"abi", "show", "i386", "--struct", "stat", "--syscall", "read"}, "sprig abi show: --struct and --syscall cannot be used together"},
		{[]string{"version", "extra"}, `sprig version: unexpected argument "extra"`},
	} {
		code, out, errOut := sprig(t, tc.args...)
		assert.Equal(t, exitUsage, code, tc.args)
		assert.Empty(t, out, tc.args)
		assert.True(t, strings.HasPrefix(errOut, tc.msg+"\n"), "%v: stderr %q", tc.args, errOut)
		assert.Contains(t, errOut, "Usage:\n  sprig ", tc.args)
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := sprig(t, "version")
	require.Equal(t, exitOK, code)
	assert.Empty(t, errOut)
	// A test binary has no main module version.
	assert.Regexp(t, `^sprig version \(devel\) go\S+ \S+/\S+\n$`, out)
}

// TestCommandTable checks that every command's help names it by the path
// the dispatcher reaches it by, and that groups and leaves are well-formed.
func TestCommandTable(t *testing.T) {
	var walk func(prefix string, cmds []*command)
	walk = func(prefix string, cmds []*command) {
		seen := map[string]bool{}
		for _, c := range cmds {
			path := prefix + " " + c.name
			assert.False(t, seen[c.name], "duplicate command %s", path)
			seen[c.name] = true
			assert.Equal(t, path, c.doc.path)
			assert.NotEmpty(t, c.summary, path)
			assert.True(t, strings.HasPrefix(c.doc.usage, "  "+path), "%s usage %q", path, c.doc.usage)
			assert.True(t, strings.HasSuffix(c.doc.usage, "\n"), path)
			assert.True(t, strings.HasSuffix(c.doc.details, "\n"), path)
			assert.True(t, c.run != nil || len(c.subs) > 0, "%s: runs nothing and has no subcommands", path)
			if c.run != nil {
				for _, s := range c.subs {
					assert.Contains(t, c.doc.usage, "  "+path+" "+s.name+" ", "%s: its usage shows its subcommand %s", path, s.name)
				}
			}
			walk(path, c.subs)
		}
	}
	walk("sprig", commands())
}

func TestParseFlagsInterspersed(t *testing.T) {
	for _, args := range [][]string{
		{"abi", "show", "i386", "--struct", "stat"},
		{"abi", "show", "--struct", "stat", "i386"},
		{"abi", "show", "-struct=stat", "i386"},
		{"abi", "show", "--struct", "stat", "--", "i386"},
	} {
		code, out, errOut := sprig(t, args...)
		assert.Equal(t, exitOK, code, "%v: %s", args, errOut)
		assert.True(t, strings.HasSuffix(out, "\nstruct stat: size 124, align 4\n"), args)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestWriteFailure(t *testing.T) {
	var errb bytes.Buffer
	code := run(context.Background(), []string{"abi", "list"}, failWriter{}, &errb)
	assert.Equal(t, exitFail, code)
	assert.Equal(t, "sprig abi list: disk on fire\n", errb.String())
}

// An error from the package behind a command names the command once:
// "sprig matrix: config: ...", not "sprig matrix: matrix: config: ...".
func TestErrorsNameTheCommandOnce(t *testing.T) {
	for _, args := range [][]string{
		{"matrix", "--scenario", "nope"},
		{"abi", "show", "vax"},
		{"matrix", "--server", "unix:///nonexistent/sprig.sock"},
	} {
		_, _, errOut := sprig(t, args...)
		path := "sprig " + args[0]
		if args[0] == "abi" {
			path += " " + args[1]
		}
		require.True(t, strings.HasPrefix(errOut, path+": "), "%v: %s", args, errOut)
		for _, w := range strings.Fields(path) {
			assert.NotContains(t, errOut, path+": "+w+": ", "%v: %s", args, errOut)
		}
	}
	assert.Equal(t, "config: x", doc{path: "sprig matrix"}.once("matrix: config: x"))
	assert.Equal(t, "x: matrix: y", doc{path: "sprig matrix"}.once("x: matrix: y"), "only leading prefixes go")
}
