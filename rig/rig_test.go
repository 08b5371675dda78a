package rig_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/sp/strace"
)

func newRig(t *testing.T, o rig.Options) *rig.Rig {
	t.Helper()
	// An empty CacheDir is the default cache, which every package's tests
	// share: the guest is compiled once, not once per package (a compile
	// takes half a minute under -race).
	r, err := rig.New(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

func result(t *testing.T, rep *rig.Report, name string) rig.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Scenario == name {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", name, rep.Results)
	return rig.Result{}
}

func TestArmClientOfAnI386ServerFailsOnlyWhereStructStatDiffers(t *testing.T) {
	r := newRig(t, rig.Options{})
	rep, err := r.Run(context.Background(), rig.Pair{
		Client: abi.MustLookup("arm"), Server: abi.MustLookup("i386"), Mode: rig.ModeNative,
		Scenarios: []string{"file-io", "pread-pwrite", "stat"},
	})
	require.NoError(t, err)
	assert.Equal(t, guestapi.Pass, result(t, rep, "file-io").Status, "read/write frames agree")
	assert.Equal(t, guestapi.Pass, result(t, rep, "pread-pwrite").Status, "pread/pwrite frames agree")
	st := result(t, rep, "stat")
	require.Equal(t, guestapi.Fail, st.Status)
	assert.Equal(t, guestapi.LayerData, st.Layer)
	require.NotNil(t, st.Field)
	assert.Regexp(t, `^stat\.st_\w+.*: server wrote \S+ at offset \d+ of 124 bytes \(i386 layout\); client read \S+ at offset \d+ of a 152-byte stat \(arm layout\)$`, st.Explanation)
}

func TestTranslatingModesMakeMismatchedPairsPass(t *testing.T) {
	r := newRig(t, rig.Options{})
	for _, mode := range []rig.Mode{rig.ModeServerTranslates, rig.ModeClientTranslates} {
		t.Run(mode.String(), func(t *testing.T) {
			rep, err := r.Run(context.Background(), rig.Pair{
				Client: abi.MustLookup("sparc64"), Server: abi.MustLookup("i386"), Mode: mode,
				Scenarios: []string{"stat", "lseek-4g", "getdents", "sysctl"},
			})
			require.NoError(t, err)
			assert.Equal(t, rig.Counts{Pass: 4}, rep.Counts, "%+v", rep.Results)
		})
	}
}

func TestTraceShowsSyscallsStraceStyle(t *testing.T) {
	r := newRig(t, rig.Options{})
	var out bytes.Buffer
	rep, err := r.Run(context.Background(), rig.Pair{
		Client: abi.MustLookup("arm64"), Server: abi.MustLookup("amd64"), Mode: rig.ModeNative,
		Scenarios: []string{"file-io"},
		Trace:     strace.New(&out, "arm64").ServerFrame,
	})
	require.NoError(t, err)
	require.Equal(t, guestapi.Pass, result(t, rep, "file-io").Status)
	assert.Regexp(t, `(?m)^arm64 → mkdir\("/tmp/sprig-file-io-\d+-0", 0777\) = 0$`, out.String())
	assert.Regexp(t, `(?m)^arm64 → open\("/tmp/sprig-file-io-\d+-0/f", O_CREAT\|O_RDWR, 0644\) = (\d+)$`, out.String())
	assert.Regexp(t, `(?m)^arm64 → close\(\d+\) = -1 EBADF`, out.String())
}

// Hand-made guests: a WebAssembly module whose _start never returns, one
// that traps at once, and one that asks for more memory than the limit.
var (
	wasmHeader = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: func() -> ()
		0x03, 0x02, 0x01, 0x00} // one function of that type
	wasmExportStart = []byte{0x07, 0x0a, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00}
	wasmLoopForever = cat(wasmHeader, wasmExportStart, []byte{0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b})
	wasmTrap        = cat(wasmHeader, wasmExportStart, []byte{0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b})
	wasmHugeMemory  = cat(wasmHeader, []byte{0x05, 0x04, 0x01, 0x00, 0xb8, 0x17}, wasmExportStart, // min 3000 pages
		[]byte{0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b})
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// A guest that outlives its deadline leaves errors, not failures: the
// scenarios could not be judged in the time given (a loaded machine looks
// the same), which must never pass for a verdict on the server.
func TestAHungGuestIsAnErrorNotAHungRig(t *testing.T) {
	r := newRig(t, rig.Options{Guest: wasmLoopForever, CacheDir: "-"})
	start := time.Now()
	rep, err := r.Run(context.Background(), rig.Pair{
		Client: abi.MustLookup("amd64"), Server: abi.MustLookup("amd64"),
		Scenarios: []string{"getpid"}, Timeout: 200 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 30*time.Second)
	got := result(t, rep, "getpid")
	assert.Equal(t, guestapi.Error, got.Status)
	assert.Equal(t, guestapi.LayerTimeout, got.Layer)
	assert.Equal(t, guestapi.Error, result(t, rep, rig.GuestScenario).Status)
	assert.Equal(t, rig.Counts{Error: 1}, rep.Counts, "the guest's own entry is no scenario")
}

func TestACrashingGuestIsAFailedScenario(t *testing.T) {
	r := newRig(t, rig.Options{Guest: wasmTrap, CacheDir: "-"})
	rep, err := r.Run(context.Background(), rig.Pair{
		Client: abi.MustLookup("amd64"), Server: abi.MustLookup("amd64"), Scenarios: []string{"stat"},
	})
	require.NoError(t, err)
	got := result(t, rep, "stat")
	assert.Equal(t, guestapi.Fail, got.Status)
	assert.Equal(t, guestapi.LayerGuest, got.Layer)
	assert.True(t, strings.Contains(got.Detail, "unreachable"), got.Detail)
}

func TestAGuestAskingForMoreMemoryThanTheLimitIsRefused(t *testing.T) {
	_, err := rig.New(context.Background(), rig.Options{Guest: wasmHugeMemory, CacheDir: "-"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "memory")
}

// TestAPoisonedArgumentIsNamedAsTheCause: an i386 client of an amd64
// server reads getpid's pid from rsp_sysresp's padding and passes the
// poison on to kill; the explanation says so.
func TestAPoisonedArgumentIsNamedAsTheCause(t *testing.T) {
	r := newRig(t, rig.Options{})
	rep, err := r.Run(context.Background(), rig.Pair{
		Client: abi.MustLookup("i386"), Server: abi.MustLookup("amd64"), Mode: rig.ModeNative, Scenarios: []string{"kill-raise"},
	})
	require.NoError(t, err)
	got := result(t, rep, "kill-raise")
	assert.Equal(t, guestapi.Fail, got.Status)
	assert.Contains(t, got.Explanation, "pid is 0xa5a5a5a5, the poison sprig writes where C leaves rsp_sysresp's padding uninitialised")
}
