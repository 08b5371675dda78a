package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/guest/scenario"
	"github.com/rumpsprig/sprig/sp"
)

func frame(body int) *sp.Frame { return &sp.Frame{Body: make([]byte, body)} }

func TestARecordedExchangeMergesEachSidesConsecutiveFramesIntoOneTurn(t *testing.T) {
	r := &recorder{}
	r.trace(sp.Sent, frame(8)) // before start: not recorded
	r.start()
	r.trace(sp.Sent, frame(40))     // pwrite request
	r.trace(sp.Received, frame(16)) // COPYIN request
	r.trace(sp.Sent, frame(64))     // COPYIN reply
	r.trace(sp.Received, frame(24)) // syscall reply
	r.trace(sp.Sent, frame(40))     // pread request
	r.trace(sp.Received, frame(80)) // COPYOUT
	r.trace(sp.Received, frame(24)) // and its reply: the same turn
	r.trace(sp.Sent, frame(0))      // two requests before an answer
	r.trace(sp.Sent, frame(0))
	r.trace(sp.Received, frame(24))
	got := r.stop()
	r.trace(sp.Sent, frame(1)) // after stop: not recorded
	assert.Equal(t, Script{{64, 40}, {88, 48}, {64, 104 + 48}, {48, 48}}, got)
	assert.Equal(t, "64/40+88/48+64/152+48/48", got.String())
	in, out := got.Bytes()
	assert.Equal(t, []int{264, 288}, []int{in, out})
}

func TestAScriptCrossesTheWireIntact(t *testing.T) {
	s := Script{{24, 48}, {88, 0}, {1 << 20, 7}}
	got, err := readScript(bytes.NewReader(encodeScript(s, false)))
	require.NoError(t, err)
	assert.Equal(t, s, got)
}

func TestThePeerRefusesScriptsItCannotServe(t *testing.T) {
	for name, b := range map[string][]byte{
		"not a script":   []byte("GET / HTTP/1.1\r\n\r\n"),
		"no turns":       encodeScript(Script{}, false),
		"an empty turn":  encodeScript(Script{{0, 48}}, false),
		"a huge turn":    encodeScript(Script{{24, maxTurnSize + 1}}, false),
		"a short script": encodeScript(Script{{24, 48}, {24, 48}}, false)[:12],
	} {
		_, err := readScript(bytes.NewReader(b))
		assert.Error(t, err, name)
	}
}

func TestThePeerAnswersEachTurnWithExactlyItsBytes(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	go servePeer(b)
	s := Script{{24, 48}, {88, 40}}
	_, err := a.Write(encodeScript(s, false))
	require.NoError(t, err)
	for range 3 {
		for _, turn := range s {
			_, err := a.Write(make([]byte, turn.In))
			require.NoError(t, err)
			_, err = io.ReadFull(a, make([]byte, turn.Out))
			require.NoError(t, err)
			// Nothing more comes before the next turn.
			a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			n, err := a.Read(make([]byte, 1))
			assert.Zero(t, n)
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			a.SetReadDeadline(time.Time{})
		}
	}
}

func TestStatsAreMinMedianMax(t *testing.T) {
	s := statsOf([]float64{9, 1, 3})
	assert.Equal(t, Stats{Min: 1, Median: 3, Max: 9, runs: []float64{1, 3, 9}}, s)
	s = statsOf([]float64{4, 1, 2, 3})
	assert.Equal(t, 2.5, s.Median, "an even count's median is the mean of the middle two")
	assert.Equal(t, Stats{}, statsOf(nil))
}

func TestFiguresShowThreeSignificantDigitsWhateverTheirSign(t *testing.T) {
	for x, want := range map[float64]string{1234.5: "1234", 123.4: "123", 12.34: "12.3", 1.234: "1.23",
		-1.234: "-1.23", -13.53: "-13.5", -131.2: "-131", 0: "0.00"} {
		assert.Equal(t, want, num(x), "%v", x)
	}
}

func TestQuantileIsTheNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	assert.Equal(t, time.Duration(50), quantile(d, 0.5))
	assert.Equal(t, time.Duration(99), quantile(d, 0.99))
	assert.Equal(t, time.Duration(7), quantile([]time.Duration{7}, 0.99))
}

func TestTheCopyPairIsTheSlopeLessTwoNullSyscalls(t *testing.T) {
	// T(N) = 10 + 30·N in run 1, 12 + 32·N in run 2; the floor's round
	// trip is 5, then 4.
	at := func(n int) []float64 { return []float64{10 + 30*float64(n), 12 + 32*float64(n)} }
	p, ok := pairFit(at, []float64{5, 4})
	require.True(t, ok)
	assert.InDelta(t, 31, p.PerPairUS.Median, 1e-9)
	assert.InDelta(t, 32-24, p.AddedUS.Min, 1e-9)
	assert.InDelta(t, 30-20, p.AddedUS.Max, 1e-9)
	assert.InDelta(t, (10.0/5+8.0/4)/2, p.AddedFloorRT.Median, 1e-9)

	_, ok = pairFit(func(n int) []float64 {
		if n == 4 {
			return nil
		}
		return at(n)
	}, nil)
	assert.False(t, ok, "a missing N is no fit")
}

func TestIterationsAreWholeBlocksAndBoundTheBytesMoved(t *testing.T) {
	for _, op := range scenario.BenchOps() {
		n := Iterations(op, 2000)
		assert.Zero(t, n%Blocks, op.Name)
		assert.GreaterOrEqual(t, n, 2*Blocks, op.Name)
		if op.Bytes > 4096 {
			assert.LessOrEqual(t, n*op.Bytes, max(2000*4096, 2*Blocks*op.Bytes), op.Name)
		}
	}
	getpid, _ := scenario.LookupBenchOp("getpid")
	assert.Equal(t, 2000, Iterations(getpid, 2000))
	pairs, _ := scenario.LookupBenchOp("pairs/8")
	assert.Equal(t, 2000/17/Blocks*Blocks, Iterations(pairs, 2000))
}

func TestRotateStartsAtTheKth(t *testing.T) {
	v := []Variant{Floor, Native, Wasm}
	assert.Equal(t, []Variant{Native, Wasm, Floor}, rotate(v, 1))
	assert.Equal(t, []Variant{Wasm, Floor, Native}, rotate(v, 5))
	assert.Equal(t, []Variant{Floor, Native, Wasm}, v, "the input is left alone")
	assert.Empty(t, rotate([]Variant{}, 3), "MeasureOp of the wasm variant alone rotates no others")
}

func TestConfigErrorsNameTheBadField(t *testing.T) {
	for field, mod := range map[string]func(*Config){
		"Spawn":      func(c *Config) { c.Spawn = nil },
		"Calls":      func(c *Config) { c.Calls = 3 },
		"Runs":       func(c *Config) { c.Runs = 0 },
		"Clients":    func(c *Config) { c.Clients = []int{0} },
		"Only":       func(c *Config) { c.Only = []string{"getppid"} },
		"ProfileDir": func(c *Config) { c.ProfileDir, c.Server = "/tmp/p", "unix:///x" },
	} {
		c := DefaultConfig()
		mod(&c)
		err := c.verify()
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), field)
		}
	}
	c := DefaultConfig()
	assert.NoError(t, c.verify())
}

func TestTheTextReportJudgesTheTargets(t *testing.T) {
	st := func(x float64) Stats { return statsOf([]float64{x * 0.9, x, x * 1.1}) }
	r := &Report{SchemaVersion: SchemaVersion, Runs: 3, Calls: 100, CPUs: 2, Server: ServerInfo{Started: true, Banner: "RUMPSP-0.4-NetBSD-7.99.34/amd64", ABI: "amd64"},
		Ops: []OpReport{{Op: "getpid", Group: GroupSyscalls, Exchange: Script{{24, 48}}, BytesIn: 24, BytesOut: 48,
			Floor:  &Figure{US: st(20)},
			Native: &Figure{US: st(22), XFloor: ptr(st(1.1))},
			Wasm:   &Figure{US: st(60), XFloor: ptr(st(3)), XNative: ptr(st(2.7))}}},
		Clients: []ClientsReport{{Clients: 256, Floor: &ClientsFigure{CallsPerSecond: st(2e5)},
			Native: &ClientsFigure{CallsPerSecond: st(1e5), P50US: st(100), P99US: st(300), P99OverP50: st(3), XFloorThroughput: ptr(st(0.5))}}},
	}
	r.Targets = targets(r)
	require.Len(t, r.Targets, 3)
	assert.True(t, r.Targets[0].Met, "null 1.1 ≤ 1.15")
	assert.False(t, r.Targets[1].Met, "wasm 2.7 > 1.3")
	assert.True(t, r.Targets[2].Met, "256 clients 3 ≤ 10")
	var b strings.Builder
	require.NoError(t, r.WriteText(&b))
	out := b.String()
	assert.Contains(t, out, "22.0 [19.8–24.2]")
	assert.Regexp(t, `null syscall +native getpid ÷ floor +1\.10 ≤ 1\.15 +met +\(2 of 3 runs met it\)`, out, "0.99 and 1.10 meet 1.15, 1.21 does not")
	assert.Regexp(t, `wasm guest +wasm getpid ÷ native getpid +2\.70 ≤ 1\.30 +NOT MET +\(0 of 3 runs met it\)`, out)
	assert.Regexp(t, `256 clients .* met +\(3 of 3 runs met it\)`, out)
	assert.Contains(t, out, "100k [90.0–110]")
	assert.NotContains(t, out, "busy machine", "a floor steady within 1.2× is not noisy")

	// A floor whose runs differ past twice is reported as noisy.
	r.Ops[0].Floor.US = statsOf([]float64{10, 20, 35})
	b.Reset()
	require.NoError(t, r.WriteText(&b))
	assert.Contains(t, b.String(), "A busy machine: the floor's getpid took 10.0 to 35.0 µs (3.5×)")

	js, err := json.Marshal(r)
	require.NoError(t, err)
	for _, key := range []string{`"runs_met":2,"runs":3`, `"schema_version":1`, `"x_floor":{`, `"x_native":{`, `"exchange":[{"in":24,"out":48}]`, `"p99_over_p50":{`, `"targets":[`} {
		assert.Contains(t, string(js), key)
	}
}
