package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These run the bench for real, as small as it goes: the floor's peer and
// the server are this test binary re-executed (see the init func in
// bench.go), the server the real `sprig serve`.

func TestBenchPrintsEachTableNextToTheFloor(t *testing.T) {
	code, out, errOut := sprig(t, "bench", "--calls", "16", "--runs", "1", "--clients", "2", "--only", "getpid,pread/1M,clients")
	require.Equal(t, exitOK, code, errOut)
	for _, want := range []string{
		"server: sprig serve started by bench (RUMPSP-0.4-NetBSD-7.99.34/amd64",
		"Syscalls, µs per operation", "Bulk, 1 MiB in one syscall", "Concurrent clients", "Targets (issue 13)",
	} {
		assert.Contains(t, out, want)
	}
	assert.Regexp(t, `(?m)^ +getpid +24/48 +[0-9.]+ \[`, out, "getpid's row: its bytes, then the floor")
	assert.Regexp(t, `null syscall +native getpid ÷ floor +[0-9.]+ ≤ 1\.15 +(met|NOT MET)`, out)
}

func TestBenchJSONCarriesItsSchemaVersion(t *testing.T) {
	code, out, errOut := sprig(t, "bench", "--calls", "16", "--runs", "1", "--only", "getpid", "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	var rep struct {
		SchemaVersion int `json:"schema_version"`
		Ops           []struct {
			Op       string           `json:"op"`
			Exchange []map[string]int `json:"exchange"`
			Floor    struct {
				US struct{ Median float64 } `json:"us"`
			} `json:"floor"`
			Native struct {
				XFloor struct{ Median float64 } `json:"x_floor"`
			} `json:"native"`
		} `json:"ops"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, 1, rep.SchemaVersion)
	require.Len(t, rep.Ops, 1)
	assert.Equal(t, "getpid", rep.Ops[0].Op)
	assert.Equal(t, []map[string]int{{"in": 24, "out": 48}}, rep.Ops[0].Exchange)
	assert.Positive(t, rep.Ops[0].Floor.US.Median)
	assert.Positive(t, rep.Ops[0].Native.XFloor.Median)
}

func TestBenchProfileHasTheServerWriteItsProfiles(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := sprig(t, "bench", "--calls", "16", "--runs", "1", "--only", "pread/64", "--profile", dir)
	require.Equal(t, exitOK, code, errOut)
	for _, name := range []string{"cpu.pprof", "allocs.pprof"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		require.Greater(t, len(b), 2, name)
		assert.Equal(t, []byte{0x1f, 0x8b}, b[:2], "%s is a gzipped pprof profile", name)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--calls", "5"}, "--calls must be at least 10"},
		{[]string{"--runs", "0"}, "--runs must be at least 1"},
		{[]string{"--only", "getppid"}, `no operation or group "getppid"`},
		{[]string{"--clients", "0"}, "not a positive number"},
		{[]string{"--server", "unix:///x", "--profile", "/tmp/p"}, "with --server there is none"},
		{[]string{"--server-abi", "i386"}, "--server-abi needs --server"},
		{[]string{"--server", "http://x"}, "--server:"},
		{[]string{"--format", "junit"}, "want text, json"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		code, out, errOut := sprig(t, append([]string{"bench"}, c.args...)...)
		assert.Equal(t, exitUsage, code, c.args)
		assert.Empty(t, out, c.args)
		assert.Contains(t, errOut, c.want, c.args)
	}
}
