package bench_test

// Benchmarks of sprig against the floor under it: the same bytes between
// two processes over a unix socket with nothing but blocking read(2) and
// write(2), as in C. Every
// benchmark measures its baseline in the same run, block by block (see
// bench.Session.MeasureOps), and reports ratios; the figures behind issue
// 13's targets are:
//
//	x-floor         null syscall (getpid) ÷ its floor             target ≤ 1.15
//	                (go-floor-x-floor: Go's netpoller ping-pong ÷ the floor;
//	                x-go-floor: sprig ÷ that, sprig's own part)
//	added-floor-rt  a copy pair's cost beyond its two syscalls,
//	                in floor round trips                           target ≤ 1
//	preload-added-floor-rt  the same, the client preloading             target ≤ 1
//	x-floor         pread of 64 B ÷ its floor                      target ≤ 1.3
//	x-native        wasm guest getpid ÷ native client getpid       target ≤ 1.3
//	p99/p50         256 clients at once, sprig's tail              target ≤ 10
//
// Run them together (the server and the peer start once):
//
//	go test -run '^$' -bench . -benchtime 2000x -count 5 ./rig/bench/
//
// and take the medians of the counts; SPRIG_BENCH_SERVER=URL runs them
// against another sysproxy server. The machine's other load shows in the
// spread between counts.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/guest/scenario"
	"github.com/rumpsprig/sprig/rig/bench"
)

func mustOp(tb testing.TB, name string) scenario.BenchOp {
	op, err := bench.Op(name)
	if err != nil {
		tb.Fatal(err)
	}
	return op
}

// measure times b.N iterations (whole blocks, at least one each) of op by
// every variant, interleaved, and returns microseconds per iteration,
// reported as PREFIX-VARIANT-us.
func measure(b *testing.B, prefix string, s *bench.Session, op scenario.BenchOp, vs ...bench.Variant) map[bench.Variant]float64 {
	b.Helper()
	return measureOps(b, []string{prefix}, s, []scenario.BenchOp{op}, vs...)[0]
}

// measureOps is measure for several operations at once, interleaved block
// by block (bench.Session.MeasureOps), ops[i]'s figures reported as
// prefixes[i]-VARIANT-us.
func measureOps(b *testing.B, prefixes []string, s *bench.Session, ops []scenario.BenchOp, vs ...bench.Variant) []map[bench.Variant]float64 {
	b.Helper()
	n := (max(b.N, bench.Blocks) + bench.Blocks - 1) / bench.Blocks * bench.Blocks
	timed := make([]bench.Timed, len(ops))
	for i, op := range ops {
		timed[i] = bench.Timed{Op: op, Iterations: n, Warmup: min(n/10, 200) + 2}
	}
	b.ResetTimer()
	res, err := s.MeasureOps(context.Background(), timed, vs, 0)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]map[bench.Variant]float64, len(ops))
	for i := range res {
		out[i] = map[bench.Variant]float64{}
		for v, d := range res[i] {
			out[i][v] = float64(d.Nanoseconds()) / 1e3 / float64(n)
			b.ReportMetric(out[i][v], prefixes[i]+string(v)+"-us")
		}
	}
	return out
}

// BenchmarkNullSyscall: getpid by sprig's Go client ÷ the floor of its
// 24 bytes out and 48 back. Go's floor (both ends using net.Conn)
// splits the ratio: go-floor-x-floor is Go's runtime's part, x-go-floor
// sprig's own.
func BenchmarkNullSyscall(b *testing.B) {
	floorsAndNative(b, "getpid")
}

// BenchmarkPread64: a pread of 64 bytes (the reply follows a COPYOUT) ÷
// the floor of its bytes, split as BenchmarkNullSyscall's.
func BenchmarkPread64(b *testing.B) {
	floorsAndNative(b, "pread/64")
}

func floorsAndNative(b *testing.B, op string) {
	us := measure(b, "", session(b), mustOp(b, op), bench.Floor, bench.GoFloor, bench.Native)
	b.ReportMetric(us[bench.Native]/us[bench.Floor], "x-floor")
	b.ReportMetric(us[bench.GoFloor]/us[bench.Floor], "go-floor-x-floor")
	b.ReportMetric(us[bench.Native]/us[bench.GoFloor], "x-go-floor")
}

// BenchmarkCopyPair: what one copyin+copyout pair of 64 bytes adds. NetBSD
// has no syscall that copies N times, so pairs/8 is a getpid and 8 ×
// (pwrite 64 B + pread 64 B); a pair costs (pairs/8 − getpid)/8, and what
// the copies add beyond the two syscalls carrying them is that less two
// getpids, here in floor round trips (the floor's getpid). The floor's own
// figure is the protocol's minimum: a COPYIN is a round trip. Where the
// server offers preloaded copyin, preload-added-floor-rt is the same for
// the client preloading (sprig's extension), whose COPYIN costs none.
func BenchmarkCopyPair(b *testing.B) {
	s := session(b)
	vs := []bench.Variant{bench.Floor, bench.Native}
	if s.Preloads() {
		vs = append(vs, bench.Preload)
	} else {
		b.Logf("the server offers no preloaded copyin (banner %q): no preload-added-floor-rt", s.Banner().Line())
	}
	// Both at once, block by block: the pair is their difference, which
	// amplifies a change of the machine's state between them (by 2⅛ for
	// getpid's part).
	us := measureOps(b, []string{"getpid-", "pairs8-"}, s, []scenario.BenchOp{mustOp(b, "getpid"), mustOp(b, "pairs/8")}, vs...)
	null, pairs := us[0], us[1]
	rt := null[bench.Floor]
	metric := map[bench.Variant]string{bench.Floor: "floor-added-floor-rt", bench.Native: "added-floor-rt", bench.Preload: "preload-added-floor-rt"}
	for _, v := range vs {
		perPair := (pairs[v] - null[v]) / 8
		added := perPair - 2*null[v]
		b.ReportMetric(perPair, string(v)+"-pair-us")
		b.ReportMetric(added/rt, metric[v])
	}
}

// BenchmarkWasmVsNative: getpid by the WebAssembly guest (under wazero,
// as the rig runs it) ÷ the same by sprig's native Go client.
func BenchmarkWasmVsNative(b *testing.B) {
	us := measure(b, "", session(b), mustOp(b, "getpid"), bench.Floor, bench.Native, bench.Wasm)
	b.ReportMetric(us[bench.Wasm]/us[bench.Native], "x-native")
	b.ReportMetric(us[bench.Wasm]/us[bench.Floor], "wasm-x-floor")
}

// BenchmarkClients256: 256 clients at once, each its own connection and
// process, calling getpid; p99/p50 is sprig's tail, x-floor-throughput its
// calls per second ÷ 256 floor connections'.
func BenchmarkClients256(b *testing.B) {
	s := session(b)
	calls := max(b.N, 256*bench.Blocks)
	b.ResetTimer()
	res, err := s.MeasureClients(context.Background(), 256, calls, 0)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	nat, fl := res[bench.Native], res[bench.Floor]
	b.ReportMetric(float64(nat.P99)/float64(nat.P50), "p99/p50")
	b.ReportMetric(float64(fl.P99)/float64(fl.P50), "floor-p99/p50")
	b.ReportMetric(nat.Throughput()/fl.Throughput(), "x-floor-throughput")
	b.ReportMetric(float64(nat.P50)/float64(time.Microsecond), "p50-us")
	b.ReportMetric(float64(nat.P99)/float64(time.Microsecond), "p99-us")
}

// TestRunMeasuresEachOperationAgainstTheFloorOfItsOwnBytes runs a small
// bench end to end: the peer and the server are this test binary
// re-executed, the guest is the embedded one.
func TestRunMeasuresEachOperationAgainstTheFloorOfItsOwnBytes(t *testing.T) {
	cfg := bench.DefaultConfig()
	cfg.Calls, cfg.Runs, cfg.Clients = 16, 2, []int{3}
	cfg.Only = []string{"getpid", "pwrite/64", "pread/1M", bench.GroupClients}
	rep, err := bench.Run(context.Background(), cfg)
	require.NoError(t, err)

	assert.Equal(t, bench.SchemaVersion, rep.SchemaVersion)
	assert.True(t, rep.Server.Started)
	assert.Contains(t, rep.Server.Banner, "RUMPSP-0.4-NetBSD")
	require.Len(t, rep.Ops, 3)
	byName := map[string]bench.OpReport{}
	for _, o := range rep.Ops {
		byName[o.Op] = o
		assert.Positive(t, o.Floor.US.Median, o.Op)
		require.NotNil(t, o.Native, o.Op)
		assert.Positive(t, o.Native.US.Median, o.Op)
		assert.Positive(t, o.Native.XFloor.Median, o.Op)
	}
	// The exchanges as an amd64 client and server lay them out.
	assert.Equal(t, bench.Script{{In: 24, Out: 48}}, byName["getpid"].Exchange, "a header out, header and 24-byte rsp_sysresp back")
	assert.Equal(t, bench.Script{{In: 24 + 40, Out: 24 + 16}, {In: 24 + 64, Out: 48}}, byName["pwrite/64"].Exchange,
		"pwrite's args out, the COPYIN request back, 64 bytes out, the reply back")
	assert.Equal(t, bench.Script{{In: 64, Out: 24 + 16 + 1<<20 + 48}}, byName["pread/1M"].Exchange, "COPYOUT and reply in one turn")
	for _, op := range []string{"getpid", "pwrite/64"} {
		g := byName[op].GoFloor
		require.NotNil(t, g, "%s is timed on Go's floor too", op)
		assert.Positive(t, g.XFloor.Median, op)
		require.NotNil(t, byName[op].Native.XGoFloor, op)
		assert.Positive(t, byName[op].Native.XGoFloor.Median, op)
	}
	assert.Nil(t, byName["pread/1M"].GoFloor, "bulk has no go floor")
	require.NotNil(t, byName["getpid"].Wasm, "syscalls are timed in the wasm guest too")
	assert.Positive(t, byName["getpid"].Wasm.XNative.Median)
	assert.Nil(t, byName["pread/1M"].Wasm, "bulk runs natively only")
	require.NotNil(t, byName["pread/1M"].Native.MiBps)
	assert.Positive(t, byName["pread/1M"].Native.MiBps.Median)

	require.Len(t, rep.Clients, 1)
	c := rep.Clients[0]
	assert.Equal(t, 3, c.Clients)
	assert.GreaterOrEqual(t, c.Native.P99US.Median, c.Native.P50US.Median)
	assert.Positive(t, c.Native.CallsPerSecond.Median)

	var names []string
	for _, tg := range rep.Targets {
		names = append(names, tg.Name)
	}
	assert.Equal(t, []string{"null syscall", "wasm guest"}, names, "the targets the selected figures can judge")

	var text strings.Builder
	require.NoError(t, rep.WriteText(&text))
	for _, want := range []string{"Syscalls, µs per operation", "Bulk, 1 MiB in one syscall", "Concurrent clients", "Go's floor", "Targets (issue 13)", "24/48"} {
		assert.Contains(t, text.String(), want)
	}
}
