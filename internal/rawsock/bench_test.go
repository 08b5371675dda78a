//go:build unix

package rawsock_test

import (
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rumpsprig/sprig/internal/rawsock"
)

// BenchmarkPingPong: 24 bytes out and 48 back (sysproxy's null syscall)
// over a unix socket to an echo process, the peer reading and writing
// through net.Conn, the client through net.Conn (baseline) or rawsock;
// x-net is rawsock's round trip ÷ net.Conn's, the two interleaved.
func BenchmarkPingPong(b *testing.B) {
	a := dialEcho(b)
	raw := rawsock.New(a)
	out, in := make([]byte, 24), make([]byte, 48)
	round := func(r io.Reader, w io.Writer) {
		if _, err := w.Write(out); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, in); err != nil {
			b.Fatal(err)
		}
	}
	var tNet, tRaw float64
	const block = 100
	b.ResetTimer()
	for i := 0; i < b.N; i += block {
		t0 := nowNanos()
		for range block {
			round(a, a)
		}
		t1 := nowNanos()
		for range block {
			round(raw, raw)
		}
		t2 := nowNanos()
		tNet += float64(t1 - t0)
		tRaw += float64(t2 - t1)
	}
	b.ReportMetric(tNet/float64(b.N)/1e3, "net-us")
	b.ReportMetric(tRaw/float64(b.N)/1e3, "rawsock-us")
	b.ReportMetric(tRaw/tNet, "x-net")
}

const envEcho = "RAWSOCK_ECHO_FD"

// TestMain runs the echo peer when re-executed as one.
func TestMain(m *testing.M) {
	if os.Getenv(envEcho) != "" {
		echo()
		return
	}
	os.Exit(m.Run())
}

// echo answers each 24 bytes on descriptor 3 with 48 until the end.
func echo() {
	c, err := net.FileConn(os.NewFile(3, "echo"))
	if err != nil {
		os.Exit(2)
	}
	in, out := make([]byte, 24), make([]byte, 48)
	for {
		if _, err := io.ReadFull(c, in); err != nil {
			os.Exit(0)
		}
		if _, err := c.Write(out); err != nil {
			os.Exit(0)
		}
	}
}

// dialEcho starts the echo process on one end of a socket pair and
// returns the other.
func dialEcho(b *testing.B) *net.UnixConn {
	fds, err := socketpair()
	if err != nil {
		b.Fatal(err)
	}
	peer := os.NewFile(uintptr(fds[1]), "peer")
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), envEcho+"=1")
	cmd.ExtraFiles = []*os.File{peer}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	peer.Close()
	f := os.NewFile(uintptr(fds[0]), "client")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(); cmd.Wait() })
	return c.(*net.UnixConn)
}

// BenchmarkFairness: while one Conn's reader calls an echo process back
// to back, polling, another Conn, whose reader waits in the netpoller,
// gets a byte now and then: every 5 ms (a connection in use, beside which
// nobody polls) and every 150 ms (an idle one, past ActiveWithin, beside
// which the busy Conn polls). Its latency, write to Read, is reported
// with the busy Conn polling (DefaultSpin) and, as the baseline in the
// same run, not (spin 0): p90-x-nopoll and max-x-nopoll are the one over
// the other. A poller must not keep the other Conn waiting long.
func BenchmarkFairness(b *testing.B) {
	b.Run("every=5ms", func(b *testing.B) { fairness(b, 5*time.Millisecond, 100) })
	b.Run("every=150ms", func(b *testing.B) { fairness(b, 150*time.Millisecond, 20) })
}

// fairness is BenchmarkFairness for a byte every every, samples of them a
// round, b.N/100 rounds (at least one).
func fairness(b *testing.B, every time.Duration, samples int) {
	busy := rawsock.New(dialEcho(b))
	out, in := make([]byte, 24), make([]byte, 48)
	quiet, qpeer := unixPair(b)
	q := rawsock.New(quiet)
	var sent atomic.Int64
	lats := make(chan time.Duration)
	go func() {
		buf := make([]byte, 8)
		for {
			if _, err := q.Read(buf); err != nil {
				close(lats)
				return
			}
			lats <- time.Duration(nowNanos() - sent.Load())
		}
	}()
	measure := func(spin time.Duration, samples int) []time.Duration {
		busy.SetSpin(spin)
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := busy.Write(out); err != nil {
					return
				}
				if _, err := io.ReadFull(busy, in); err != nil {
					return
				}
			}
		}()
		lat := make([]time.Duration, 0, samples)
		for range samples {
			time.Sleep(every)
			sent.Store(nowNanos())
			if _, err := qpeer.Write([]byte{1}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, <-lats)
		}
		close(stop)
		<-done
		return lat
	}
	var with, without []time.Duration
	for range max(b.N/100, 1) {
		with = append(with, measure(rawsock.DefaultSpin, samples)...)
		without = append(without, measure(0, samples)...)
	}
	slices.Sort(with)
	slices.Sort(without)
	p := func(l []time.Duration, q float64) float64 { return float64(l[int(q*float64(len(l)-1))].Microseconds()) }
	b.ReportMetric(p(with, 0.5), "p50-us")
	b.ReportMetric(p(with, 0.9), "p90-us")
	b.ReportMetric(p(with, 1), "max-us")
	b.ReportMetric(p(without, 0.9), "nopoll-p90-us")
	b.ReportMetric(p(without, 1), "nopoll-max-us")
	b.ReportMetric(p(with, 0.9)/max(p(without, 0.9), 1), "p90-x-nopoll")
	b.ReportMetric(p(with, 1)/max(p(without, 1), 1), "max-x-nopoll")
}
