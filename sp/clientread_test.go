package sp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// noDeadlines hides a connection's read deadline, as a plain
// io.ReadWriteCloser (a pipe, a TLS wrapper) has none.
type noDeadlines struct{ io.ReadWriteCloser }

// A caller reads the connection itself until its reply comes. When its
// context ends first it must return at once, leave nothing of the
// stream behind, and the connection must carry on: the next call gets
// its own reply even though the abandoned call's reply arrives before it.
func TestACallerWhoseContextEndsWhileReadingLeavesTheConnectionWorking(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(net.Conn) io.ReadWriteCloser
	}{
		{"with read deadlines the caller reads", func(c net.Conn) io.ReadWriteCloser { return c }},
		{"without them the client's goroutine reads", func(c net.Conn) io.ReadWriteCloser { return noDeadlines{c} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
				f, err := acceptedGuest(conn)
				if err != nil {
					return err
				}
				first, err := f.expect(sp.ClassReq, sp.TypeSyscall) // left waiting
				if err != nil {
					return err
				}
				second, err := f.expect(sp.ClassReq, sp.TypeSyscall)
				if err != nil {
					return err
				}
				if err := f.reply(first.Reqno, 0, [2]uint64{111, 0}); err != nil {
					return err
				}
				return f.reply(second.Reqno, 0, [2]uint64{222, 0})
			})
			giveUpThenCarryOn(t, url, done, tc.wrap)
		})
	}
}

// Close of a client nobody reads for must end it: no goroutine of its
// own is blocked in a read to notice the close.
func TestClosingAnIdleClientEndsIt(t *testing.T) {
	url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
		if _, err := acceptedGuest(conn); err != nil {
			return err
		}
		_, err := conn.Read(make([]byte, 1))
		if err != io.EOF {
			return err
		}
		return nil
	})
	c, err := sp.Dial(ctxT(t), url, sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, err)
	require.NoError(t, c.HandshakeGuest(ctxT(t)))
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		require.FailNow(t, "Close of an idle client hangs")
	}
	<-c.Done()
	assert.ErrorIs(t, c.Err(), sp.ErrClosed)
	_, err = c.Syscall(ctxT(t), netbsd.SYS_getpid)
	assert.ErrorIs(t, err, sp.ErrClosed)
	waitFake(t, done)
}

// pastDeadline is a context whose deadline has passed but whose timer
// has not fired, as in a wasm guest whose scheduler has not run since.
type pastDeadline struct{ context.Context }

func (pastDeadline) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestACallPastItsDeadlineIsNotSentEvenBeforeTheTimerFires(t *testing.T) {
	url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
		f, err := acceptedGuest(conn)
		if err != nil {
			return err
		}
		s, err := f.expect(sp.ClassReq, sp.TypeSyscall)
		if err != nil {
			return err
		}
		if netbsd.Sysno(s.U) != netbsd.SYS_getppid {
			return fmt.Errorf("the server got %s, sent past its deadline", netbsd.Sysno(s.U))
		}
		return f.reply(s.Reqno, 0, [2]uint64{1, 0})
	})
	c := dialFake(t, url, sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, c.HandshakeGuest(ctxT(t)))
	_, err := c.Syscall(pastDeadline{context.Background()}, netbsd.SYS_getpid)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = c.Syscall(ctxT(t), netbsd.SYS_getppid)
	require.NoError(t, err)
	waitFake(t, done)
}

// A COPYOUT too large for the client's reused frame is read whole into a
// pooled buffer and served like any other: the same checks (one whose
// rsp_copydata disagrees with its frame is dropped, one past the end of
// memory writes nothing) and the same bytes in memory; the connection
// goes on. One cut short by a server that hangs up writes nothing.
func TestALargeCopyOutIsServedLikeAnyOther(t *testing.T) {
	const base, size = 0x10000, 300 << 10
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	for _, cut := range []bool{false, true} {
		url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
			f, err := acceptedGuest(conn)
			if err != nil {
				return err
			}
			call, err := f.expect(sp.ClassReq, sp.TypeSyscall)
			if err != nil {
				return err
			}
			if cut {
				whole, _ := f.codec.Copydata(size, base+8, data)
				frame := append(rawHeader(uint64(sp.HeaderSize+len(whole)), 0, sp.ClassReq, sp.TypeCopyOut, 0), whole[:len(whole)/2]...)
				_, err := conn.Write(frame)
				return err // and hang up
			}
			bad, _ := f.codec.Copydata(size/2, base, data) // says half of what it carries
			past, _ := f.codec.Copydata(size, base+size+16, data)
			good, _ := f.codec.Copydata(size, base+8, data)
			for _, body := range [][]byte{bad, past, good} {
				if err := f.send(sp.Header{Class: sp.ClassReq, Type: sp.TypeCopyOut}, body); err != nil {
					return err
				}
			}
			return f.reply(call.Reqno, 0, [2]uint64{size, 0})
		})
		mem := &countingMemory{Memory: sptest.NewMemory(base, 2*size)}
		cfg := sp.DefaultClientConfig(mustABI("amd64"))
		cfg.Memory = mem
		var log logBuf
		cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
		c := dialFake(t, url, cfg)
		require.NoError(t, c.HandshakeGuest(ctxT(t)))
		r, err := c.Syscall(ctxT(t), netbsd.SYS_read, 3, base+8, size)
		got, cerr := mem.Memory.CopyIn(ctxT(t), base, 2*size)
		require.NoError(t, cerr)
		if cut {
			require.ErrorIs(t, err, sp.ErrClosed)
			assert.Equal(t, make([]byte, 2*size), got, "a COPYOUT cut short wrote to memory")
			waitFake(t, done)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, uint64(size), r.Retval[0])
		assert.Equal(t, make([]byte, 8), got[:8], "the bad COPYOUT wrote to memory")
		assert.True(t, bytes.Equal(data, got[8:8+size]), "the bytes in memory are not those sent")
		assert.Equal(t, make([]byte, size-8), got[8+size:], "the COPYOUT past the end of memory wrote to it")
		assert.Equal(t, int64(2), mem.calls.Load(), "memory calls: the COPYOUT past the end and the good one")
		assert.Contains(t, log.String(), "bad copyout request")
		waitFake(t, done)
	}
}

// A caller whose context ends while only part of a reply's header has
// come must still return at once: the header is peeked, not read, so
// what came stays buffered, and the next call, reading on from there,
// skips the abandoned reply whole and gets its own.
func TestACallerStoppedInsideAHeaderLeavesItForTheNextReader(t *testing.T) {
	url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
		f, err := acceptedGuest(conn)
		if err != nil {
			return err
		}
		first, err := f.expect(sp.ClassReq, sp.TypeSyscall)
		if err != nil {
			return err
		}
		var reply bytes.Buffer
		codec := sp.NewCodec(mustABI("amd64"))
		if err := sp.NewFramer(nil, &reply, mustABI("amd64")).WriteFrame(
			sp.Header{Reqno: first.Reqno, Class: sp.ClassResp, Type: sp.TypeSyscall},
			codec.Sysresp(sp.Result{Retval: [2]uint64{111, 0}})); err != nil {
			return err
		}
		const cut = 10 // inside the 24-byte header
		if _, err := conn.Write(reply.Bytes()[:cut]); err != nil {
			return err
		}
		// The rest comes only once the client has sent its next call,
		// which it can do only once the first caller has given up.
		second, err := f.expect(sp.ClassReq, sp.TypeSyscall)
		if err != nil {
			return err
		}
		if _, err := conn.Write(reply.Bytes()[cut:]); err != nil {
			return err
		}
		return f.reply(second.Reqno, 0, [2]uint64{222, 0})
	})
	giveUpThenCarryOn(t, url, done, func(c net.Conn) io.ReadWriteCloser { return c })
}

// giveUpThenCarryOn dials url through wrap and makes a GUEST handshake,
// then a getpid whose context ends after 100 ms and which must return at
// once, then one that must get its own reply (222) on the same
// connection, still alive once the fake server is done.
func giveUpThenCarryOn(t *testing.T, url string, done <-chan error, wrap func(net.Conn) io.ReadWriteCloser) {
	t.Helper()
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	conn, err := u.Dial(ctxT(t))
	require.NoError(t, err)
	c, err := sp.NewClient(wrap(conn.(net.Conn)), sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.HandshakeGuest(ctxT(t)))

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Syscall(ctx, netbsd.SYS_getpid)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)

	r, err := c.Syscall(ctxT(t), netbsd.SYS_getpid)
	require.NoError(t, err)
	assert.Equal(t, uint64(222), r.Retval[0], "the second call got the first one's reply")
	waitFake(t, done)
	select {
	case <-c.Done():
		require.FailNow(t, "the connection ended", "%v", c.Err())
	default:
	}
}
