package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatrixUsageErrorsExitTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"matrix", "extra"}, `sprig matrix: unexpected argument "extra"`},
		{[]string{"matrix", "--frob"}, "sprig matrix: flag provided but not defined: -frob"},
		{[]string{"matrix", "--abis", "amd64,vax"}, `sprig matrix: abi: unknown ABI "vax"`},
		{[]string{"matrix", "--abis", "amd64,x86_64"}, "sprig matrix: --abis names amd64 twice"},
		{[]string{"matrix", "--modes", "native,telepathic"}, `sprig matrix: --modes: unknown mode "telepathic"`},
		{[]string{"matrix", "--scenario", "nope"}, `sprig matrix: config: unknown scenario "nope"`},
		{[]string{"matrix", "--scenario", "fork-child"}, `sprig matrix: config: scenario "fork-child" runs only as part of its parent`},
		{[]string{"matrix", "--format", "xml"}, `sprig matrix: invalid value "xml" for flag -format: want text, json, junit or markdown`},
		{[]string{"matrix", "--shard", "0/4"}, "sprig matrix: --shard: shard 0/4: want 1 ≤ I ≤ N"},
		{[]string{"matrix", "--shard", "5/4"}, "sprig matrix: --shard: shard 5/4: want 1 ≤ I ≤ N"},
		{[]string{"matrix", "--shard", "half"}, `sprig matrix: --shard: shard "half": want I/N, such as 2/8`},
		{[]string{"matrix", "--shards", "4"}, "sprig matrix: --shards goes with --list; to run one shard use --shard I/N"},
		{[]string{"matrix", "--list", "--shards", "4", "--shard", "1/4"}, "sprig matrix: --shards and --shard cannot be used together"},
		{[]string{"matrix", "--list", "--format", "junit"}, "sprig matrix: --list prints text or json"},
		{[]string{"matrix", "--list", "--shards", "10000"}, "sprig matrix: --shards 10000: the matrix has only 243 cells"},
		{[]string{"matrix", "--jobs", "-1"}, "sprig matrix: --jobs must not be negative"},
		{[]string{"matrix", "--timeout", "0s"}, "sprig matrix: --timeout must be positive"},
		{[]string{"matrix", "merge"}, "sprig matrix merge: missing REPORT.json"},
		{[]string{"matrix", "merge", "--format", "pdf", "x.json"}, `sprig matrix merge: invalid value "pdf" for flag -format`},
	} {
		code, out, errOut := sprig(t, tc.args...)
		assert.Equal(t, exitUsage, code, "%v: %s", tc.args, errOut)
		assert.Empty(t, out, tc.args)
		assert.True(t, strings.HasPrefix(errOut, tc.msg), "%v: stderr %q", tc.args, errOut)
	}
}

func TestMatrixHelpShowsBothForms(t *testing.T) {
	code, out, _ := sprig(t, "help", "matrix")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "sprig matrix merge [--format")
	assert.Contains(t, out, "--shard I/N")
	code, out2, _ := sprig(t, "matrix", "-h")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, out, out2)
	code, out, _ = sprig(t, "matrix", "merge", "-h")
	assert.Equal(t, exitOK, code)
	assert.True(t, strings.HasPrefix(out, "Usage:\n  sprig matrix merge "), out)
}

type listOutput struct {
	Include []map[string]any `json:"include"`
}

func listJSON(t *testing.T, args ...string) listOutput {
	t.Helper()
	code, out, errOut := sprig(t, append([]string{"matrix", "--list", "--format", "json"}, args...)...)
	require.Equal(t, exitOK, code, errOut)
	var l listOutput
	require.NoError(t, json.Unmarshal([]byte(out), &l), out)
	return l
}

func TestMatrixListFeedsAGitHubActionsMatrix(t *testing.T) {
	shards := listJSON(t, "--shards", "4")
	require.Len(t, shards.Include, 4)
	total := 0.0
	for i, e := range shards.Include {
		assert.Equal(t, []string{"cells", "shard"}, keys(e))
		assert.Equal(t, []string{"1/4", "2/4", "3/4", "4/4"}[i], e["shard"])
		total += e["cells"].(float64)
	}
	assert.Equal(t, float64(9*9*3), total)

	cells := listJSON(t, "--abis", "amd64,i386", "--modes", "native")
	require.Len(t, cells.Include, 4)
	assert.Equal(t, map[string]any{"shard": "2/4", "mode": "native", "client": "amd64", "server": "i386"}, cells.Include[1])

	one := listJSON(t, "--abis", "amd64,i386", "--shard", "2/3")
	require.Len(t, one.Include, 4, "cells 2, 5, 8 and 11 of 12")
	for _, e := range one.Include {
		assert.Equal(t, "2/3", e["shard"])
	}

	code, out, _ := sprig(t, "matrix", "--list", "--abis", "amd64,i386", "--modes", "native")
	require.Equal(t, exitOK, code)
	assert.Regexp(t, `(?m)^2/4  native  amd64  i386$`, out)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func TestMatrixRunsCellsAndExitsZeroWhenObservedEqualsPredicted(t *testing.T) {
	code, out, errOut := sprig(t, "matrix", "--abis", "i386,arm", "--scenario", "file-io,stat")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	// Off a terminal (a CI log): one plain line per cell as it finishes.
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if strings.HasPrefix(lines[0], "sprig: compiling the guest") {
		lines = lines[1:] // the first test to run warms the cache
	}
	assert.Len(t, lines, 12, errOut)
	for _, l := range lines {
		assert.Regexp(t, `^\[ ?\d+/12 +\d+\.\ds\] \S+ \S+→\S+ \d/2 \(total: 0 disagreements, 0 errors\)$`, l)
	}
	assert.NotContains(t, errOut, "\r", "no carriage returns in a log")
	assert.Contains(t, out, "observed = predicted in all 24 results")
	assert.Regexp(t, `(?m)^i386 +2/2 +1/2$`, out)
	assert.Contains(t, out, "Partly: i386 ↔ arm (1/2 both ways)")
	assert.NotContains(t, out, "\x1b[", "no colour off a terminal")
}

func TestMatrixMergeJoinsShardsAndFailsWhenOneIsMissing(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, sh := range []string{"1/3", "2/3", "3/3"} {
		f := filepath.Join(dir, "shard-"+sh[:1]+".json")
		code, out, errOut := sprig(t, "matrix", "--predict", "--abis", "amd64,i386,mips", "--shard", sh, "--format", "json", "--out", f)
		require.Equal(t, exitOK, code, errOut)
		assert.Regexp(t, `^wrote the json report to .*shard-\d\.json: \d+ cells, observed = predicted in all \d+ results\n$`, out)
		files = append(files, f)
	}
	code, out, errOut := sprig(t, append([]string{"matrix", "merge", "--format", "json"}, files...)...)
	require.Equal(t, exitOK, code, errOut)
	var merged struct {
		Cells   []json.RawMessage `json:"cells"`
		Shard   string            `json:"shard"`
		Summary struct {
			Cells int `json:"cells"`
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &merged))
	assert.Len(t, merged.Cells, 27)
	assert.Empty(t, merged.Shard)

	code, out, _ = sprig(t, "matrix", "merge", files[0], files[2])
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "CELLS MISSING")

	code, _, errOut = sprig(t, "matrix", "merge", files[0], files[0])
	assert.Equal(t, exitFail, code)
	assert.Regexp(t, `is in \S+/shard-1\.json and \S+/shard-1\.json`, errOut, "reports are named by their files")

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"schema_version": 7}`), 0o644))
	code, _, errOut = sprig(t, "matrix", "merge", bad)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "not a sprig matrix report of schema version 2")
}

func TestMatrixPredictPrintsTheCommittedVerdict(t *testing.T) {
	code, out, _ := sprig(t, "matrix", "--predict", "--format", "markdown")
	require.Equal(t, exitOK, code)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "<!-- matrix:begin -->\n")
	require.True(t, ok, "README.md has no matrix section")
	section, _, _ = strings.Cut(section, "<!-- matrix:end -->")
	assert.Equal(t, section, out, "the README's matrix section is what --predict prints")
}

// TestMatrixDeadlinesTooTightAreErrorsNotDisagreements: with the rig's
// deadline forced tiny, scenarios end in errors (retried once), which are
// reported as errors with their own exit status, never as disagreements.
func TestMatrixDeadlinesTooTightAreErrorsNotDisagreements(t *testing.T) {
	code, out, errOut := sprig(t, "matrix", "--abis", "amd64", "--modes", "native", "--scenario", "concurrent,fork", "--timeout", "1ms", "--format", "json")
	require.Equal(t, exitError, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	var rep struct {
		Summary struct{ Errors, Disagreements int }
		Cells   []struct {
			Retried bool
			Results []struct{ Status, Layer string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Zero(t, rep.Summary.Disagreements)
	assert.Equal(t, 2, rep.Summary.Errors)
	require.Len(t, rep.Cells, 1)
	assert.True(t, rep.Cells[0].Retried, "errors are retried once before they are reported")
	for _, r := range rep.Cells[0].Results {
		assert.Equal(t, "error", r.Status)
	}

	code, out, _ = sprig(t, "run", "--abi", "amd64", "--scenario", "concurrent", "--timeout", "1ms")
	assert.Equal(t, exitError, code, out)
	assert.Regexp(t, `(?m)^0 passed, 0 failed, 1 errors$`, out)
}

// TestMatrixInterruptedWritesThePartialReport: SIGINT (a cancelled
// context) during a run writes the report of the cells that finished and
// exits 130.
func TestMatrixInterruptedWritesThePartialReport(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(700*time.Millisecond, cancel)
	var out, errb bytes.Buffer
	code := run(ctx, []string{"matrix", "--abis", "amd64,i386,arm", "--jobs", "1", "--scenario", "fork,concurrent", "--format", "json"}, &out, &errb)
	require.Equal(t, exitInterrupted, code, "stderr:\n%s", errb.String())
	var rep struct {
		Interrupted bool
		Cells       []json.RawMessage
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
	assert.True(t, rep.Interrupted)
	assert.Less(t, len(rep.Cells), 27)
	assert.Contains(t, errb.String(), "interrupted after")
}
