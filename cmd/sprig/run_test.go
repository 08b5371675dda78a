package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

// beSprigEnv makes the test binary run sprig's main instead of the
// tests, so a test can start sprig as a separate process without a build.
const beSprigEnv = "SPRIG_TEST_BE_SPRIG"

func TestMain(m *testing.M) {
	if os.Getenv(beSprigEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestRunArm64AgainstAmd64PassesEveryScenario(t *testing.T) {
	code, out, errOut := sprig(t, "run", "--abi", "arm64", "--server-abi", "amd64")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Regexp(t, `(?m)^PASS  handshake `, out)
	assert.Regexp(t, `(?m)^\d+ passed, 0 failed$`, out)
}

func TestRunI386NativeFailsWithFieldLevelExplanations(t *testing.T) {
	code, out, _ := sprig(t, "run", "--abi", "i386", "--server-abi", "amd64", "--scenario", "getpid", "--scenario", "kill-raise")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "rsp_sysresp.rsys_retval[0]: client read offset 4 of a 12-byte rsp_sysresp (i386 layout); server put it at offset 8 of 24 bytes (amd64 layout); the client's bytes are the server's 4..8 (a5 a5 a5 a5), under the server's padding C leaves uninitialised")
	assert.Contains(t, out, "sys_kill_args: client (i386) sent 8 bytes, server (amd64) reads 16: signum written at 4 (4 bytes), read at 8 (4 bytes)")
	assert.Regexp(t, `(?m)^0 passed, 2 failed$`, out)

	for _, mode := range []string{"server-translates", "client-translates"} {
		code, out, _ = sprig(t, "run", "--abi", "i386", "--server-abi", "amd64", "--mode", mode)
		assert.Equal(t, exitOK, code, "%s:\n%s", mode, out)
		assert.Regexp(t, `(?m)^\d+ passed, 0 failed$`, out, mode)
	}
}

func TestRunJSONIsAReport(t *testing.T) {
	code, out, _ := sprig(t, "run", "--abi", "mips", "--server-abi", "amd64", "--mode", "server-translates", "--scenario", "stat", "--format", "json")
	require.Equal(t, exitOK, code)
	var rep struct {
		Client, Server, Mode string
		Results              []struct{ Scenario, Status string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, "mips", rep.Client)
	require.Len(t, rep.Results, 1)
	assert.Equal(t, "pass", rep.Results[0].Status)
}

func TestRunTraceIsStraceLike(t *testing.T) {
	code, out, _ := sprig(t, "run", "--abi", "arm64", "--server-abi", "amd64", "--scenario", "file-io", "--trace")
	require.Equal(t, exitOK, code)
	assert.Regexp(t, regexp.MustCompile(`(?m)^arm64 → open\("/tmp/sprig-file-io-\d+-0/f", O_CREAT\|O_RDWR, 0644\) = \d+$`), out)
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--destructive"},
		{"run", "--server", "ftp://host/x"},
		{"run", "--abi", "vax"},
		{"run", "--abi", "arm64", "--mode", "sideways"},
		{"run", "--abi", "arm64", "--version", "0.3"},
		{"run", "--abi", "arm64", "--scenario", "no-such-scenario"},
	} {
		code, _, errOut := sprig(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
}

// TestScenariosDocIsCurrent: docs/scenarios.md carries the table
// `sprig run --list --format markdown` prints.
func TestScenariosDocIsCurrent(t *testing.T) {
	code, out, _ := sprig(t, "run", "--list", "--format", "markdown")
	require.Equal(t, exitOK, code)
	doc, err := os.ReadFile("../../docs/scenarios.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "<!-- scenarios:begin -->\n")
	require.True(t, ok)
	table, _, ok := strings.Cut(rest, "<!-- scenarios:end -->")
	require.True(t, ok)
	assert.Equal(t, out, table, "docs/scenarios.md is stale: paste `sprig run --list --format markdown` between its markers")

	code, out, _ = sprig(t, "run", "--list")
	require.Equal(t, exitOK, code)
	for _, s := range guestapi.Manifest() {
		assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(s.Name)+` +`+regexp.QuoteMeta(s.Summary), out)
	}
}

// TestRunJSONFollowsItsDocumentedSchema decodes `sprig run --format json`
// with exactly the keys docs/run-json.md documents: an undocumented key
// fails, and so does a documented one gone missing.
func TestRunJSONFollowsItsDocumentedSchema(t *testing.T) {
	code, out, _ := sprig(t, "run", "--abi", "i386", "--server-abi", "amd64", "--scenario", "getpid,fork", "--format", "json")
	require.Equal(t, exitFail, code)
	type result struct {
		Scenario    string                  `json:"scenario"`
		Status      string                  `json:"status"`
		Layer       string                  `json:"layer"`
		Detail      string                  `json:"detail"`
		Field       *map[string]any         `json:"field"`
		Explanation string                  `json:"explanation"`
		Trace       []string                `json:"trace"`
		Checks      int                     `json:"checks"`
		Millis      float64                 `json:"ms"`
		Syscalls    []uint32                `json:"syscalls"`
		Child       *map[string]interface{} `json:"child"`
	}
	var rep struct {
		SchemaVersion int            `json:"schema_version"`
		Client        string         `json:"client"`
		Server        string         `json:"server"`
		Mode          string         `json:"mode"`
		Version       string         `json:"version"`
		URL           string         `json:"url"`
		Extensions    []string       `json:"kernel_extensions"`
		Program       string         `json:"program"`
		Millis        float64        `json:"ms"`
		Counts        map[string]int `json:"counts"`
		Results       []result       `json:"results"`
		GuestExit     int            `json:"guest_exit"`
		GuestStderr   string         `json:"guest_stderr"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&rep), out)
	assert.Equal(t, 1, rep.SchemaVersion)
	assert.Equal(t, []string{"kill", "mmap"}, rep.Extensions, "the in-process kernel's extensions are named")
	assert.Equal(t, map[string]int{"pass": 0, "fail": 2, "unsupported": 0, "error": 0}, rep.Counts)
	require.Len(t, rep.Results, 2)
	assert.Equal(t, "data", rep.Results[0].Layer)
	assert.NotNil(t, rep.Results[0].Field)
	assert.NotEmpty(t, rep.Results[0].Explanation)

	doc, err := os.ReadFile("../../docs/run-json.md")
	require.NoError(t, err)
	for _, k := range []string{"schema_version", "client", "server", "mode", "version", "url", "ms", "counts", "results",
		"guest_exit", "guest_stderr", "scenario", "status", "layer", "detail", "field", "explanation", "trace", "checks", "syscalls", "child"} {
		assert.Contains(t, string(doc), "`"+k+"`", "docs/run-json.md documents %s", k)
	}
}
