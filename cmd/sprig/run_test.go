package main

import (
	"encoding/json"
	"os"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCache is one compilation cache for the package's tests, so the
// guest is compiled once per test run.
var testCache = sync.OnceValue(func() string {
	dir, err := os.MkdirTemp("", "sprig-cmd-test-")
	if err != nil {
		panic(err)
	}
	return dir
})

// beSprigEnv makes the test binary run sprig's main instead of the
// tests, so a test can start sprig as a separate process without a build.
const beSprigEnv = "SPRIG_TEST_BE_SPRIG"

func TestMain(m *testing.M) {
	if os.Getenv(beSprigEnv) == "1" {
		main()
		return
	}
	code := m.Run()
	os.RemoveAll(testCache())
	os.Exit(code)
}

func withCache(t *testing.T) {
	t.Helper()
	t.Setenv("SPRIG_CACHE_DIR", testCache())
}

func TestRunArm64AgainstAmd64PassesEveryScenario(t *testing.T) {
	withCache(t)
	code, out, errOut := sprig(t, "run", "--abi", "arm64", "--server-abi", "amd64")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Regexp(t, `(?m)^PASS  handshake `, out)
	assert.Regexp(t, `(?m)^\d+ passed, 0 failed$`, out)
}

func TestRunI386NativeFailsWithFieldLevelExplanations(t *testing.T) {
	withCache(t)
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
	withCache(t)
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
	withCache(t)
	code, out, _ := sprig(t, "run", "--abi", "arm64", "--server-abi", "amd64", "--scenario", "file-io", "--trace")
	require.Equal(t, exitOK, code)
	assert.Regexp(t, regexp.MustCompile(`(?m)^arm64 → open\("/tmp/sprig-file-io-\d+", O_CREAT\|O_RDWR, 0644\) = 0$`), out)
}

func TestRunUsageErrors(t *testing.T) {
	withCache(t)
	for _, args := range [][]string{
		{"run"},
		{"run", "--abi", "vax"},
		{"run", "--abi", "arm64", "--mode", "sideways"},
		{"run", "--abi", "arm64", "--version", "0.3"},
		{"run", "--abi", "arm64", "--scenario", "no-such-scenario"},
	} {
		code, _, errOut := sprig(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
}
