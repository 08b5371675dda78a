package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's examples and CLI reference from the program's output")

const readmePath = "../../README.md"

// readmeExample is one fenced block of the README that starts with
// "$ sprig ...": the command and the output shown for it.
type readmeExample struct {
	start, end int // byte range of the block's body, after the command line
	command    string
	output     string
}

var fence = regexp.MustCompile("(?m)^```\n\\$ sprig ([^\n]*)\n")

func readmeExamples(t *testing.T, text string) []readmeExample {
	t.Helper()
	var out []readmeExample
	for _, m := range fence.FindAllStringSubmatchIndex(text, -1) {
		body := m[1]
		end := strings.Index(text[body:], "```\n")
		require.GreaterOrEqual(t, end, 0, "an unclosed example block at byte %d", m[0])
		out = append(out, readmeExample{start: body, end: body + end, command: text[m[2]:m[3]], output: text[body : body+end]})
	}
	return out
}

// What differs from one run or machine to the next: timings, the
// number of workers (CPUs), tool versions, and column padding that
// follows their widths.
var readmeVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d+(\.\d+)? ms\b`), "N ms"},
	{regexp.MustCompile(`\(\d+(\.\d+)? s, \d+ workers\)`), "(N s, N workers)"},
	{regexp.MustCompile(`\d+\.\d+[\w.+~:-]*`), "V"},
	{regexp.MustCompile(`[ \t]+`), " "},
}

func normalizeExample(s string) string {
	for _, v := range readmeVolatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// needsTools says why an example cannot run here (its emulated column
// needs cross compilers and qemu), or "".
func needsTools(command string) string {
	if !strings.Contains(command, "--emulated") {
		return ""
	}
	for _, tool := range []string{"i686-linux-gnu-gcc", "qemu-i386-static"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed"
		}
	}
	return ""
}

// Every "$ sprig ..." block of the README is what that command prints
// (timings, worker counts and tool versions aside). With -update-readme
// the blocks are rewritten from the program.
func TestREADMEExamplesAreTheProgramsOutput(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	raw, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	text := string(raw)
	examples := readmeExamples(t, text)
	require.GreaterOrEqual(t, len(examples), 5, "the README's examples")
	var updated strings.Builder
	last := 0
	for _, ex := range examples {
		var out, errOut bytes.Buffer
		ran := false
		if why := needsTools(ex.command); why != "" {
			t.Logf("README example %q not checked: %s", ex.command, why)
		} else {
			run(context.Background(), strings.Fields(ex.command), &out, &errOut)
			ran = true
			if !*updateREADME {
				assert.Equal(t, normalizeExample(ex.output), normalizeExample(out.String()),
					"README example `sprig %s` is stale; rerun with -update-readme (stderr: %s)", ex.command, errOut.String())
			}
		}
		updated.WriteString(text[last:ex.start])
		if ran {
			updated.WriteString(out.String())
		} else {
			updated.WriteString(ex.output)
		}
		last = ex.end
	}
	updated.WriteString(text[last:])
	if *updateREADME {
		require.NoError(t, os.WriteFile(readmePath, []byte(updated.String()), 0o644))
	}
}

// cliReference is the README's CLI reference: every command's usage, in
// the order sprig help lists them.
func cliReference() string {
	var b strings.Builder
	eachCommand(commands(), nil, func(c *command, _ []string) {
		if c.run == nil && len(c.subs) > 0 {
			return // a group: its subcommands have the usage lines
		}
		// matrix's usage shows matrix merge's form too: once is enough.
		if u := c.doc.usage; !strings.Contains(b.String(), strings.TrimPrefix(u, "  ")) {
			for _, l := range strings.SplitAfter(u, "\n") {
				b.WriteString(strings.TrimPrefix(l, "  "))
			}
		}
	})
	return "```\n" + b.String() + "```\n"
}

func TestREADMECLIReferenceIsTheUsageLines(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	text := string(raw)
	const begin, end = "<!-- usage:begin -->\n", "<!-- usage:end -->"
	i, j := strings.Index(text, begin), strings.Index(text, end)
	require.True(t, i >= 0 && j > i, "the README marks its CLI reference with %q and %q", begin, end)
	want := cliReference()
	if *updateREADME {
		require.NoError(t, os.WriteFile(readmePath, []byte(text[:i+len(begin)]+want+text[j:]), 0o644))
		return
	}
	assert.Equal(t, want, text[i+len(begin):j], "the README's CLI reference is stale; rerun with -update-readme")
}

// Every other sprig command line the README shows (in its code blocks,
// outside the CLI reference and the checked examples) uses real commands
// and flags: `sprig ARGS -h` parses ARGS first, so an unknown command or
// flag is a usage error.
func TestREADMECommandLinesParse(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	lines := 0
	inBlock, example, first := false, false, false
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "```") {
			inBlock, first = !inBlock, true
			continue
		}
		if first {
			example, first = strings.HasPrefix(l, "$ "), false // output, checked above
		}
		if example {
			continue
		}
		l = strings.TrimSuffix(strings.TrimSpace(l), " &")
		l = strings.TrimPrefix(l, "go run ./cmd/sprig ")
		if !inBlock || !strings.HasPrefix(l, "sprig ") && !strings.HasPrefix(l, "run ") {
			continue
		}
		args := strings.Fields(strings.TrimPrefix(l, "sprig "))
		if strings.ContainsAny(l, "[|") || args[0] == "help" || args[0] == "version" {
			continue // a synopsis line of the CLI reference
		}
		lines++
		var out, errOut bytes.Buffer
		code := run(context.Background(), append(args, "-h"), &out, &errOut)
		assert.Equal(t, exitOK, code, "README: `%s`: %s", l, errOut.String())
	}
	assert.GreaterOrEqual(t, lines, 5, "README command lines checked")
}
