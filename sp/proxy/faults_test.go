package proxy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/proxy"
)

// guest dials a C-like client of ABI name through url and handshakes.
func guest(t *testing.T, url, name string, mutate func(*sp.ClientConfig)) (*sp.Client, *mixer) {
	t.Helper()
	cfg, mem := cClient(name, baseFor(name))
	if mutate != nil {
		mutate(&cfg)
	}
	c := dial(t, url, cfg)
	ctx := ctxT(t)
	require.NoError(t, c.HandshakeGuest(ctx))
	return c, &mixer{t: t, ctx: ctx, c: c, mem: mem, d: cfg.ABI}
}

func TestAnUpstreamThatIsDownGetsTheClientAClearErrorAndOthersAreServed(t *testing.T) {
	_, up := cServer(t, "amd64", nil)
	u, err := sp.ParseURL(up)
	require.NoError(t, err)
	var dials atomic.Int32
	_, url := startProxy(t, "i386", "amd64", "", func(c *proxy.Config) {
		c.Dial = func(ctx context.Context) (net.Conn, error) {
			if dials.Add(1) == 1 {
				return nil, errors.New("connection refused")
			}
			return u.Dial(ctx)
		}
	})

	cfg, _ := cClient("i386", lowBase)
	c := dial(t, url, cfg)
	err = c.HandshakeGuest(ctxT(t))
	var se *sp.ServerError
	require.ErrorAs(t, err, &se, "the client's handshake is answered with an ERROR frame")
	assert.Equal(t, uint32(sp.ErrorRforkFailed), se.Code)
	assert.ErrorIs(t, err, netbsd.EIO, "a C client sees EIO")
	// The proxy hangs up. An idle client reads nothing (nor does NetBSD's),
	// so its next call is what finds the connection closed.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Syscall(ctx, netbsd.SYS_getpid)
	require.ErrorIs(t, err, sp.ErrClosed, "the proxy did not close the refused client")
	select {
	case <-c.Done():
	default:
		t.Fatal("a client that found its connection closed is not Done")
	}

	_, m := guest(t, url, "i386", nil)
	assert.Positive(t, m.ok(netbsd.SYS_getpid).Int(), "the next client is served")
}

func TestAnUpstreamURLWithNobodyThereRefusesClients(t *testing.T) {
	_, url := startProxy(t, "mips", "amd64", "unix://"+sockDir(t)+"/nobody.sock", nil)
	cfg, _ := cClient("mips", lowBase)
	c := dial(t, url, cfg)
	assert.ErrorIs(t, c.HandshakeGuest(ctxT(t)), netbsd.EIO)
}

func TestAClientThatLeavesMidSyscallFreesItsUpstream(t *testing.T) {
	srv, up := cServer(t, "mips", nil)
	p, url := startProxy(t, "amd64", "mips", up, nil)
	c, m := guest(t, url, "amd64", nil)
	r := m.ok(netbsd.SYS_pipe)
	buf := m.mem.Alloc(16, nil)
	blocked := make(chan error, 1)
	go func() {
		_, err := c.Syscall(context.Background(), netbsd.SYS_read, r.Retval[0], buf, 16) // nobody writes
		blocked <- err
	}()
	require.Eventually(t, func() bool { return srv.Clients() == 1 && p.Clients() == 1 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let the read reach the server
	c.Close()
	assert.ErrorIs(t, <-blocked, sp.ErrClosed)
	assert.Eventually(t, func() bool { return p.Clients() == 0 }, 5*time.Second, 5*time.Millisecond, "the proxy forgot the client")
	assert.Eventually(t, func() bool { return srv.Clients() == 0 }, 5*time.Second, 5*time.Millisecond, "the upstream connection closed")
}

func TestAServerThatLeavesClosesItsClients(t *testing.T) {
	srv, up := cServer(t, "i386", nil)
	p, url := startProxy(t, "arm64", "i386", up, nil)
	c, m := guest(t, url, "arm64", nil)
	r := m.ok(netbsd.SYS_pipe)
	blocked := make(chan error, 1)
	go func() {
		_, err := c.Syscall(context.Background(), netbsd.SYS_read, r.Retval[0], m.mem.Alloc(8, nil), 8)
		blocked <- err
	}()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	srv.Shutdown(ctx) // cancels the blocked read and closes the connection
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the client was not closed after the server left")
	}
	<-blocked
	assert.Eventually(t, func() bool { return p.Clients() == 0 }, 5*time.Second, 5*time.Millisecond)
}

// TestManySyscallsInFlightOnOneConnection: one read waits on an empty
// pipe while many preads (each with a window of its own, the client being
// 64-bit with high memory and the server 32-bit big-endian) complete
// around it, in any order, each matched to its caller.
func TestManySyscallsInFlightOnOneConnection(t *testing.T) {
	_, up := cServer(t, "mips", nil)
	_, url := startProxy(t, "amd64", "mips", up, nil)
	// The client numbers its requests far from the proxy's own upstream
	// numbers, so a reply matched by the wrong number cannot pass.
	c, m := guest(t, url, "amd64", func(c *sp.ClientConfig) { c.FirstReqno = 1 << 40 })
	ctx := m.ctx
	fd := m.ok(netbsd.SYS_open, m.str("/tmp/f"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644).Int()
	data := bytes.Repeat([]byte("0123456789abcdef"), 64)
	m.ok(netbsd.SYS_write, fd, m.mem.Alloc(len(data), data), len(data))
	pp := m.ok(netbsd.SYS_pipe)

	slow := m.mem.Alloc(8, nil)
	slowDone := make(chan sp.Result, 1)
	go func() {
		r, err := c.Syscall(ctx, netbsd.SYS_read, pp.Retval[0], slow, 8)
		assert.NoError(t, err)
		slowDone <- r
	}()

	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := m.mem.Alloc(16, nil)
			off := (i * 16) % len(data)
			r, err := c.Syscall(ctx, netbsd.SYS_pread, fd, buf, 16, off)
			if assert.NoError(t, err) && assert.NoError(t, r.Err()) {
				assert.Equal(t, data[off:off+16], m.mem.Read(buf, 16), "pread %d", i)
			}
		}()
	}
	wg.Wait()
	select {
	case <-slowDone:
		t.Fatal("the read of an empty pipe returned early")
	default:
	}
	m.ok(netbsd.SYS_write, pp.Retval[1], m.mem.Alloc(4, []byte("late")), 4)
	r := <-slowDone
	assert.Equal(t, int64(4), r.Int())
	assert.Equal(t, "late", string(m.mem.Read(slow, 4)))
}

func TestBeyondMaxInFlightClientsAreToldToTryAgain(t *testing.T) {
	_, up := cServer(t, "amd64", nil)
	_, url := startProxy(t, "i386", "amd64", up, func(c *proxy.Config) { c.MaxInFlight = 1 })
	c, m := guest(t, url, "i386", func(c *sp.ClientConfig) { c.TryAgain = 0 })
	pp := m.ok(netbsd.SYS_pipe)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Syscall(m.ctx, netbsd.SYS_read, pp.Retval[0], m.mem.Alloc(4, nil), 4)
	}()
	time.Sleep(30 * time.Millisecond)
	_, err := c.Syscall(m.ctx, netbsd.SYS_getpid)
	var se *sp.ServerError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, uint32(sp.ErrorTryAgain), se.Code)
	c.Close()
	<-done
}

func TestAClientThatNeverHandshakesIsDropped(t *testing.T) {
	_, up := cServer(t, "amd64", nil)
	_, url := startProxy(t, "amd64", "amd64", up, func(c *proxy.Config) { c.HandshakeTimeout = 50 * time.Millisecond })
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	conn, err := u.Dial(ctxT(t))
	require.NoError(t, err)
	defer conn.Close()
	_, err = sp.ReadBanner(conn)
	require.NoError(t, err)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the proxy closed the silent client")
	_, m := guest(t, url, "amd64", nil)
	m.ok(netbsd.SYS_getpid)
}

func TestMalformedClientsAreDroppedAndOthersServed(t *testing.T) {
	_, up := cServer(t, "amd64", nil)
	_, url := startProxy(t, "i386", "amd64", up, nil)
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	d := abi.MustLookup("i386")
	for _, tc := range []struct {
		name  string
		frame func(conn net.Conn, fr *sp.Framer) error
		code  uint32 // the ERROR frame expected, 0: none, just the close
	}{
		{"a first frame larger than MaxFrame in either byte order", func(conn net.Conn, _ *sp.Framer) error {
			b := make([]byte, sp.HeaderSize)
			d.ByteOrder().PutUint64(b, 0xffff_ffff_ffff_ff00)
			_, err := conn.Write(b)
			return err
		}, 0},
		{"a frame larger than MaxFrame after the handshake", func(conn net.Conn, fr *sp.Framer) error {
			if err := fr.WriteFrame(sp.Header{Reqno: 1, Class: sp.ClassReq, Type: sp.TypeHandshake}, []byte("raw\x00")); err != nil {
				return err
			}
			if _, err := fr.ReadFrame(); err != nil {
				return err
			}
			b := make([]byte, sp.HeaderSize)
			d.ByteOrder().PutUint64(b, 1<<40)
			_, err := conn.Write(b)
			return err
		}, 0},
		{"a syscall before the handshake", func(_ net.Conn, fr *sp.Framer) error {
			return fr.WriteFrame(sp.Header{Reqno: 1, Class: sp.ClassReq, Type: sp.TypeSyscall, U: 20})
		}, uint32(sp.ErrorAuth)},
		{"a FORK body of the wrong size", func(_ net.Conn, fr *sp.Framer) error {
			return fr.WriteFrame(sp.Header{Reqno: 1, Class: sp.ClassReq, Type: sp.TypeHandshake, U: uint32(sp.HandshakeFork)}, []byte{1, 2, 3})
		}, uint32(sp.ErrorMalformed)},
		{"a declaration that is not JSON", func(_ net.Conn, fr *sp.Framer) error {
			return fr.WriteFrame(sp.Header{Reqno: 1, Class: sp.ClassReq, Type: sp.TypeHandshake}, []byte("x\x00sprig-abi:{nope"))
		}, uint32(sp.ErrorMalformed)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := u.Dial(ctxT(t))
			require.NoError(t, err)
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			_, err = sp.ReadBanner(conn)
			require.NoError(t, err)
			fr := sp.NewFramer(conn, conn, d)
			require.NoError(t, tc.frame(conn, fr))
			f, err := fr.ReadFrame()
			if tc.code != 0 {
				require.NoError(t, err)
				assert.Equal(t, sp.ClassError, f.Class)
				assert.Equal(t, tc.code, f.U)
				_, err = fr.ReadFrame()
			}
			assert.Error(t, err, "then the connection closes")
			_, m := guest(t, url, "i386", nil)
			m.ok(netbsd.SYS_getpid)
		})
	}
}

// TestErasAreTranslated: the proxy speaks the upstream's era upstream
// and the client's to the client, converting ERROR codes between the
// 0.1 errno and the 0.4 enum.
func TestErasAreTranslated(t *testing.T) {
	t.Run("a 0.4 client of a 0.1 server", func(t *testing.T) {
		_, up := cServer(t, "amd64", func(c *sp.ServerConfig) { c.Version = sp.Version01 })
		_, url := startProxy(t, "mips", "amd64", up, func(c *proxy.Config) { c.ClientVersion = sp.Version04 })
		c, m := guest(t, url, "mips", nil)
		assert.Equal(t, sp.Version04, c.Version(), "the banner says the client's era")
		m.ok(netbsd.SYS_getpid)
		err := c.HandshakeExec(m.ctx, "next")
		var se *sp.ServerError
		require.ErrorAs(t, err, &se, "a 0.1 server has no EXEC: the proxy answers")
		assert.Equal(t, uint32(sp.ErrorMalformed), se.Code)

		// An unknown cookie: the 0.1 server answers errno ESRCH, the
		// client hears INVALID_PREFORK.
		cfg, _ := cClient("mips", lowBase)
		child := dial(t, url, cfg)
		err = child.HandshakeFork(m.ctx, sp.Cookie{1, 2, 3}, false)
		require.ErrorAs(t, err, &se)
		assert.Equal(t, uint32(sp.ErrorInvalidPrefork), se.Code)
		assert.ErrorIs(t, err, netbsd.ESRCH)
	})
	t.Run("a 0.1 client of a 0.4 server", func(t *testing.T) {
		// One call may run and one wait; the server answers a third with
		// TRYAGAIN (its queue is full and this client holds the most).
		_, up := cServer(t, "amd64", func(c *sp.ServerConfig) {
			c.MaxSyscalls, c.IdleWorkers, c.MaxSyscallsPerClient, c.MaxQueuedSyscalls = 1, 1, 1, 1
		})
		_, url := startProxy(t, "i386", "amd64", up, func(c *proxy.Config) { c.ClientVersion = sp.Version01 })
		c, m := guest(t, url, "i386", func(c *sp.ClientConfig) { c.Version = sp.Version01 })
		pp := m.ok(netbsd.SYS_pipe)
		go c.Syscall(m.ctx, netbsd.SYS_read, pp.Retval[0], m.mem.Alloc(4, nil), 4) // runs, blocked
		time.Sleep(30 * time.Millisecond)
		go c.Syscall(m.ctx, netbsd.SYS_getpid) // queued behind it
		time.Sleep(30 * time.Millisecond)
		// The server answers TRYAGAIN (1); a 0.1 client hears EAGAIN (35).
		_, err := c.Syscall(m.ctx, netbsd.SYS_getpid)
		var se *sp.ServerError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, uint32(netbsd.EAGAIN), se.Code)
	})
}

// TestDeclaringClientsAreTakenAtTheirWord: a sprig client that declares
// its ABI (server-translates) is laid out with it, in its own byte order
// even though the proxy expected another, and the declaration does not
// reach the upstream, which would not understand it.
func TestDeclaringClientsAreTakenAtTheirWord(t *testing.T) {
	var sawDecl atomic.Bool
	_, up := cServer(t, "i386", func(c *sp.ServerConfig) {
		c.Trace = func(_ *sp.ConnInfo, dir sp.Direction, f *sp.Frame) {
			if dir == sp.Received && f.Type == sp.TypeHandshake && bytes.Contains(f.Body, []byte("sprig-abi:")) {
				sawDecl.Store(true)
			}
		}
	})
	_, url := startProxy(t, "amd64", "i386", up, nil)
	cfg, mem := cClient("sparc64", highBase)
	cfg.Mode = sp.ModeServerTranslates
	c := dial(t, url, cfg)
	ctx := ctxT(t)
	require.NoError(t, c.HandshakeGuest(ctx))
	m := &mixer{t: t, ctx: ctx, c: c, mem: mem, d: cfg.ABI}
	fd := m.ok(netbsd.SYS_open, m.str("/tmp/x"), netbsd.O_CREAT|netbsd.O_RDWR, 0o600).Int()
	sb := mem.Alloc(256, nil)
	m.ok(netbsd.SYS___fstat50, fd, sb)
	assert.Equal(t, uint32(netbsd.S_IFREG|0o600), m.stat(sb).Mode, "struct stat in sparc64's layout")
	assert.False(t, sawDecl.Load(), "the declaration was stripped")

	// The child of a declaring client declares nothing; it is its
	// parent's ABI all the same.
	u, _ := sp.ParseURL(url)
	conn, err := u.Dial(ctx)
	require.NoError(t, err)
	ccfg, cmem := cClient("sparc64", highBase+0x1000_0000)
	child, err := c.Fork(ctx, conn, ccfg)
	require.NoError(t, err)
	defer child.Close()
	csb := cmem.Alloc(256, nil)
	r, err := child.Syscall(ctx, netbsd.SYS___fstat50, fd, csb)
	require.NoError(t, err)
	require.NoError(t, r.Err())
}

func TestSignalsPassThrough(t *testing.T) {
	_, up := cServer(t, "amd64", nil)
	_, url := startProxy(t, "powerpc", "amd64", up, nil)
	_, m := guest(t, url, "powerpc", nil)
	pid := m.ok(netbsd.SYS_getpid).Int()
	m.ok(netbsd.SYS_kill, pid, int(netbsd.SIGUSR1))
	m.ok(netbsd.SYS_getpid) // the RAISE went out before this reply
	assert.Equal(t, []int32{int32(netbsd.SIGUSR1)}, m.mem.Signals())
}

// TestAnonymousMemoryAboveFourGiB: the server maps memory in a 64-bit
// client through ANONMMAP; a 32-bit server holds a window onto it, and
// the client gets its own address back from mmap.
func TestAnonymousMemoryAboveFourGiB(t *testing.T) {
	_, up := cServer(t, "arm", nil)
	_, url := startProxy(t, "amd64", "arm", up, nil)
	_, m := guest(t, url, "amd64", nil)
	r := m.ok(netbsd.SYS_mmap, 0, 8192, netbsd.PROT_READ|netbsd.PROT_WRITE, netbsd.MAP_ANON|netbsd.MAP_PRIVATE, -1, 0)
	addr := uint64(r.Int())
	assert.Greater(t, addr, uint64(highBase), "mmap returns the client's own address")
	m.mem.Read(addr, 8192) // and it is in the client's memory
	m.ok(netbsd.SYS_munmap, addr, 8192)
}

// TestWhatCannotBeTranslatedIsRefusedWithENOSYS: an undescribed syscall
// with arguments cannot be laid out for another ABI; the proxy answers it
// itself. Between identical layouts it passes, and the server answers.
func TestWhatCannotBeTranslatedIsRefusedWithENOSYS(t *testing.T) {
	_, up := cServer(t, "amd64", nil)
	var notes []string
	var mu sync.Mutex
	_, url := startProxy(t, "i386", "amd64", up, func(c *proxy.Config) {
		c.Trace = func(e proxy.Event) {
			if e.Frame == nil {
				mu.Lock()
				notes = append(notes, e.Note)
				mu.Unlock()
			}
		}
	})
	c, m := guest(t, url, "i386", nil)
	r, err := c.SyscallBody(m.ctx, 9999, []byte{1, 2, 3, 4})
	require.NoError(t, err)
	assert.Equal(t, netbsd.ENOSYS, r.Errno)
	mu.Lock()
	assert.Contains(t, notes, "refused: syscall#9999 refused with ENOSYS: sprig does not describe this syscall, and it has arguments")
	mu.Unlock()
	// A sysctl node whose type is unknown cannot be re-laid either.
	mib := m.mem.Alloc(8, cints(m.d, netbsd.CTL_KERN, 99))
	r, err = c.Syscall(m.ctx, netbsd.SYS___sysctl, mib, 2, m.mem.Alloc(8, nil), m.mem.Alloc(8, sizeT(m.d, 4)), 0, 0)
	require.NoError(t, err)
	assert.Equal(t, netbsd.ENOSYS, r.Errno)
}

func TestTraceShowsBothSidesInTheirLayouts(t *testing.T) {
	_, up := cServer(t, "mips", nil)
	var mu sync.Mutex
	var events []proxy.Event
	_, url := startProxy(t, "i386", "mips", up, func(c *proxy.Config) {
		c.Trace = func(e proxy.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	})
	_, m := guest(t, url, "i386", nil)
	fd := m.ok(netbsd.SYS_open, m.str("/tmp/t"), netbsd.O_CREAT|netbsd.O_RDWR, 0o600).Int()
	m.ok(netbsd.SYS_lseek, fd, 5<<30, netbsd.SEEK_SET)
	mu.Lock()
	defer mu.Unlock()
	var lines []string
	for _, e := range events {
		lines = append(lines, e.String())
	}
	text := "\n" + joinLines(lines)
	assert.Contains(t, text, "client → proxy [i386] REQ SYSCALL")
	assert.Contains(t, text, "proxy → server [mips] REQ SYSCALL")
	assert.Contains(t, text, "lseek(fd=0x3, offset=0x140000000, whence=0x0) 20 bytes", "i386's 20-byte lseek")
	assert.Contains(t, text, "lseek(fd=0x3, offset=0x140000000, whence=0x0) 24 bytes", "mips's 24-byte lseek")
	assert.Contains(t, text, "lseek: 20-byte i386 argument struct → 24-byte mips")
	assert.Contains(t, text, "server → proxy [mips] RESP SYSCALL")
}

func joinLines(ls []string) string {
	var b bytes.Buffer
	for _, l := range ls {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestArgumentStructsReachTheServerAsACStubLaysThem: the bytes the
// server gets are those an amd64 C stub writes (the fact sheet's
// offsets 0, 8, 16, 24 of 32; padding and PAD zero), whatever the
// client's stub left in its own padding.
func TestArgumentStructsReachTheServerAsACStubLaysThem(t *testing.T) {
	bodies := make(chan []byte, 16)
	_, up := cServer(t, "amd64", func(c *sp.ServerConfig) {
		c.Trace = func(_ *sp.ConnInfo, dir sp.Direction, f *sp.Frame) {
			if dir == sp.Received && f.Type == sp.TypeSyscall && netbsd.Sysno(f.U) == netbsd.SYS_lseek {
				bodies <- append([]byte(nil), f.Body...)
			}
		}
	})
	_, url := startProxy(t, "mips", "amd64", up, nil)
	c, m := guest(t, url, "mips", func(c *sp.ClientConfig) { c.ArgFill = 0xa5 }) // an old stub's garbage
	fd := m.ok(netbsd.SYS_open, m.str("/tmp/l"), netbsd.O_CREAT|netbsd.O_RDWR, 0o600).Int()
	_, err := c.Syscall(m.ctx, netbsd.SYS_lseek, fd, 5<<30+7, netbsd.SEEK_END)
	require.NoError(t, err)
	want := []byte{
		byte(fd), 0, 0, 0, 0, 0, 0, 0, // fd, its slot's padding zero
		0, 0, 0, 0, 0, 0, 0, 0, // PAD
		7, 0, 0, 0x40, 1, 0, 0, 0, // offset
		2, 0, 0, 0, 0, 0, 0, 0, // whence
	}
	assert.Equal(t, want, <-bodies)
}
