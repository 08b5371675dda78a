package proxy_test

// What the proxy costs: the same syscall on the same server, direct and
// through the proxy, alternated call by call so that both see the same
// machine state (these are noisy shared VMs):
//
//	go test -run '^$' -bench . -benchtime=3s ./sp/proxy/
//
// Each benchmark reports the median of each variant (direct-µs,
// proxy-µs) and their ratio. Through the proxy a call crosses two
// sockets instead of one, so a ratio near 2 is the floor.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// benchClient is a handshaken client with a 64-byte file open.
type benchClient struct {
	c   *sp.Client
	fd  int64
	buf uint64
}

func newBenchClient(b *testing.B, url, abiName string) *benchClient {
	b.Helper()
	cfg, mem := cClient(abiName, baseFor(abiName))
	c, err := sp.Dial(context.Background(), url, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	bc := &benchClient{c: c}
	if err := c.HandshakeGuest(context.Background()); err != nil {
		b.Fatal(err)
	}
	pid := bc.call(b, netbsd.SYS_getpid).Int()
	bc.fd = bc.call(b, netbsd.SYS_open, mem.AllocString("/tmp/bench"+string(rune('a'+pid%26))+abiName), netbsd.O_CREAT|netbsd.O_RDWR, 0o644).Int()
	bc.buf = mem.Alloc(64, make([]byte, 64))
	bc.call(b, netbsd.SYS_write, bc.fd, bc.buf, 64)
	return bc
}

func (bc *benchClient) call(b *testing.B, num netbsd.Sysno, args ...any) sp.Result {
	r, err := bc.c.Syscall(context.Background(), num, args...)
	if err != nil || r.Errno != 0 {
		b.Fatalf("%s: %+v %v", num, r, err)
	}
	return r
}

func (bc *benchClient) null(b *testing.B)    { bc.call(b, netbsd.SYS_sync) }
func (bc *benchClient) pread64(b *testing.B) { bc.call(b, netbsd.SYS_pread, bc.fd, bc.buf, 64, 0) }

func median(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2].Nanoseconds()) / 1e3
}

// alternate times op on direct and on proxied, one call each per
// iteration.
func alternate(b *testing.B, direct, proxied *benchClient, op func(*benchClient, *testing.B)) {
	var dd, pd []time.Duration
	for b.Loop() {
		t0 := time.Now()
		op(direct, b)
		t1 := time.Now()
		op(proxied, b)
		t2 := time.Now()
		dd = append(dd, t1.Sub(t0))
		pd = append(pd, t2.Sub(t1))
	}
	dm, pm := median(dd), median(pd)
	b.ReportMetric(dm, "direct-µs")
	b.ReportMetric(pm, "proxy-µs")
	b.ReportMetric(pm/dm, "ratio")
}

func BenchmarkProxyOverhead(b *testing.B) {
	_, amd64 := cServer(b, "amd64", nil)
	_, i386 := cServer(b, "i386", nil)
	_, relay := startProxy(b, "amd64", "amd64", amd64, nil)
	_, fromI386 := startProxy(b, "i386", "amd64", amd64, nil)
	_, toI386 := startProxy(b, "amd64", "i386", i386, nil)
	for _, tc := range []struct {
		name            string
		direct, proxied *benchClient
	}{
		// The server's own kind of client, direct; through the proxy:
		{"amd64-server/same-abi-relay", newBenchClient(b, amd64, "amd64"), newBenchClient(b, relay, "amd64")},
		{"amd64-server/i386-client", newBenchClient(b, amd64, "amd64"), newBenchClient(b, fromI386, "i386")},
		{"i386-server/amd64-client-high-memory", newBenchClient(b, i386, "i386"), newBenchClient(b, toI386, "amd64")},
	} {
		b.Run(tc.name+"/null", func(b *testing.B) { alternate(b, tc.direct, tc.proxied, (*benchClient).null) })
		b.Run(tc.name+"/pread64", func(b *testing.B) { alternate(b, tc.direct, tc.proxied, (*benchClient).pread64) })
	}
}
