package sp_test

// Benchmarks of the sysproxy round trip against the cost of the socket
// itself. Run them together, so every number comes from the same machine
// state:
//
//	go test -run '^$' -bench . -benchtime=2s ./sp/
//
// Reference (golden-amd64.md, the real C pair on this kind of 2-core
// machine, unix socket): getpid 46–54 µs, read 64 B (one COPYOUT) 51 µs,
// write 64 B (one COPYIN round trip) 93 µs, raw 24/48-byte ping-pong
// 25–31 µs (43 µs with a worker-thread hand-off on the serving side).

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// benchClient starts an amd64 server with the test kernel on a unix
// socket and returns a client that has completed its GUEST handshake.
func benchClient(b *testing.B) (*sp.Client, *sptest.Memory) {
	b.Helper()
	ts := startServer(b, "unix", sp.DefaultServerConfig(mustABI("amd64")))
	c, mem := dialClient(b, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
	if err := c.HandshakeGuest(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c, mem
}

func nullSyscall(b *testing.B, c *sp.Client) {
	r, err := c.Syscall(context.Background(), sptest.NullSyscall)
	if err != nil || r.Errno != 0 {
		b.Fatalf("null syscall: %+v, %v", r, err)
	}
}

// rawPingPong is the floor under every sysproxy call: the same bytes over
// the same kind of socket with nothing but a read/write loop on either
// side. The client writes a 24-byte request (a getpid header) and reads a
// 48-byte reply (an amd64 syscall response), as a null syscall does.
type rawPingPong struct {
	conn net.Conn
	req  []byte
	rep  []byte
}

func startRawPingPong(b *testing.B) *rawPingPong {
	b.Helper()
	path := filepath.Join(b.TempDir(), "raw.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		in := make([]byte, sp.HeaderSize)
		out := fzUnhex(b, fzGoldenFrames[2]) // RESP SYSCALL, 48 bytes
		for {
			if _, err := io.ReadFull(c, in); err != nil {
				return
			}
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}()
	conn, err := net.Dial("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn.Close()
		ln.Close()
		<-served
	})
	return &rawPingPong{conn: conn, req: fzUnhex(b, fzGoldenFrames[1]), rep: make([]byte, 48)}
}

func (r *rawPingPong) roundTrip(b *testing.B) {
	if _, err := r.conn.Write(r.req); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(r.conn, r.rep); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkNullSyscallUnix: sp client to sp server, unix socket, a
// syscall the kernel answers at once.
func BenchmarkNullSyscallUnix(b *testing.B) {
	c, _ := benchClient(b)
	for b.Loop() {
		nullSyscall(b, c)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/syscall")
}

// BenchmarkRawUnixPingPong: the same byte counts with no protocol.
func BenchmarkRawUnixPingPong(b *testing.B) {
	r := startRawPingPong(b)
	for b.Loop() {
		r.roundTrip(b)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/roundtrip")
}

// BenchmarkNullSyscallVsRawRatio measures both in the same run,
// interleaved in small blocks (alternating which goes first) so that
// frequency scaling and noisy neighbours hit both alike. One op is one
// null syscall plus one raw round trip. x-raw is the ratio of the total
// times; x-raw-p50 the median of the per-block ratios.
func BenchmarkNullSyscallVsRawRatio(b *testing.B) {
	c, _ := benchClient(b)
	r := startRawPingPong(b)
	const block = 2000
	runSp := func(n int) time.Duration {
		t0 := time.Now()
		for range n {
			nullSyscall(b, c)
		}
		return time.Since(t0)
	}
	runRaw := func(n int) time.Duration {
		t0 := time.Now()
		for range n {
			r.roundTrip(b)
		}
		return time.Since(t0)
	}
	runSp(block) // warm both paths: workers, buffers, caches
	runRaw(block)
	b.ResetTimer()
	var tSp, tRaw time.Duration
	var ratios []float64
	for done, i := 0, 0; done < b.N; i++ {
		n := min(block, b.N-done)
		var ds, dr time.Duration
		if i%2 == 0 {
			ds, dr = runSp(n), runRaw(n)
		} else {
			dr, ds = runRaw(n), runSp(n)
		}
		tSp += ds
		tRaw += dr
		ratios = append(ratios, float64(ds)/float64(dr))
		done += n
	}
	b.StopTimer()
	slices.Sort(ratios)
	b.ReportMetric(float64(tSp.Nanoseconds())/float64(b.N), "sp-ns/call")
	b.ReportMetric(float64(tRaw.Nanoseconds())/float64(b.N), "raw-ns/call")
	b.ReportMetric(float64(tSp)/float64(tRaw), "x-raw")
	b.ReportMetric(ratios[len(ratios)/2], "x-raw-p50")
}

// BenchmarkConcurrentClients64: 64 clients, each its own connection and
// process, issue getpid concurrently. Every reply must come back and
// carry the pid of the client that asked; one lost or crossed reply fails
// the benchmark.
func BenchmarkConcurrentClients64(b *testing.B) {
	const nClients = 64
	ts := startServer(b, "unix", sp.DefaultServerConfig(mustABI("amd64")))
	clients := make([]*sp.Client, nClients)
	pids := make([]uint64, nClients)
	seen := map[uint64]bool{}
	for i := range clients {
		c, _ := dialClient(b, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
		if err := c.HandshakeGuest(context.Background()); err != nil {
			b.Fatal(err)
		}
		r, err := c.Syscall(context.Background(), netbsd.SYS_getpid)
		if err != nil || r.Errno != 0 || seen[r.Retval[0]] {
			b.Fatalf("client %d: getpid %+v, %v (pids so far %v)", i, r, err, pids[:i])
		}
		clients[i], pids[i] = c, r.Retval[0]
		seen[r.Retval[0]] = true
	}

	// A watchdog ends the run if replies stop coming, so a lost reply
	// fails the benchmark instead of hanging it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var next, ok, lost, crossed atomic.Int64
	var firstErr atomic.Value
	stall := make(chan struct{})
	go func() {
		defer close(stall)
		last := int64(-1)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Second):
			}
			n := ok.Load() + lost.Load() + crossed.Load()
			if n == last {
				cancel()
				return
			}
			last = n
		}
	}()

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				r, err := c.Syscall(ctx, netbsd.SYS_getpid)
				switch {
				case err != nil:
					lost.Add(1)
					firstErr.CompareAndSwap(nil, err)
				case r.Errno != 0 || r.Retval[0] != pids[i]:
					crossed.Add(1)
					firstErr.CompareAndSwap(nil, errors.New("client got another process's pid"))
				default:
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-stall
	if lost.Load() != 0 || crossed.Load() != 0 || ok.Load() != int64(b.N) {
		b.Fatalf("%d syscalls: %d ok, %d lost, %d with the wrong pid (first: %v)",
			b.N, ok.Load(), lost.Load(), crossed.Load(), firstErr.Load())
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "syscalls/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "ns/syscall")
}

// BenchmarkCopyinCopyout: a 64-byte write (the server fetches the data:
// one COPYIN round trip inside the syscall) and a 64-byte read (the
// server pushes the data: one one-way COPYOUT), for comparison with the
// C pair's pwrite/pread.
func BenchmarkCopyinCopyout(b *testing.B) {
	const size = 64
	const fileSize = 64 << 10
	pattern := make([]byte, size)
	for i := range pattern {
		pattern[i] = byte('a' + i%26)
	}
	setup := func(b *testing.B) (*sp.Client, *sptest.Memory, uint64) {
		c, mem := benchClient(b)
		ctx := context.Background()
		r, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/bench"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
		if err != nil || r.Errno != 0 {
			b.Fatalf("open: %+v, %v", r, err)
		}
		return c, mem, r.Retval[0]
	}
	rewind := func(b *testing.B, c *sp.Client, fd uint64) {
		if r, err := c.Syscall(context.Background(), netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET); err != nil || r.Errno != 0 {
			b.Fatalf("lseek: %+v, %v", r, err)
		}
	}

	b.Run("write64-COPYIN", func(b *testing.B) {
		c, mem, fd := setup(b)
		buf := mem.Alloc(size, pattern)
		written := 0
		for b.Loop() {
			r, err := c.Syscall(context.Background(), netbsd.SYS_write, fd, buf, size)
			if err != nil || r.Errno != 0 || r.Retval[0] != size {
				b.Fatalf("write: %+v, %v", r, err)
			}
			if written += size; written >= fileSize { // keep the file small
				rewind(b, c, fd)
				written = 0
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/syscall")
	})

	b.Run("read64-COPYOUT", func(b *testing.B) {
		c, mem, fd := setup(b)
		in := mem.Alloc(fileSize, nil)
		for off := uint64(0); off < fileSize; off += size {
			if err := mem.CopyOut(context.Background(), in+off, pattern); err != nil {
				b.Fatal(err)
			}
		}
		if r, err := c.Syscall(context.Background(), netbsd.SYS_write, fd, in, fileSize); err != nil || r.Retval[0] != fileSize {
			b.Fatalf("filling the file: %+v, %v", r, err)
		}
		rewind(b, c, fd)
		out := mem.Alloc(size, nil)
		for b.Loop() {
			r, err := c.Syscall(context.Background(), netbsd.SYS_read, fd, out, size)
			if err != nil || r.Errno != 0 {
				b.Fatalf("read: %+v, %v", r, err)
			}
			if r.Retval[0] < size { // end of file
				rewind(b, c, fd)
			}
		}
		b.StopTimer()
		if got := mem.Read(out, size); string(got) != string(pattern) {
			b.Fatalf("read copied out %q, want %q", got, pattern)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/syscall")
	})
}
