//go:build unix

package rawsock_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/internal/rawsock"
)

// unixPair returns both ends of a connected unix socket.
func unixPair(t testing.TB) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan *net.UnixConn, 1)
	go func() {
		c, _ := l.AcceptUnix()
		accepted <- c
	}()
	a, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	b := <-accepted
	require.NotNil(t, b)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

type wrapped struct{ *net.UnixConn }

func TestOnlyBareSocketsAreTaken(t *testing.T) {
	a, _ := unixPair(t)
	assert.NotNil(t, rawsock.New(a))
	assert.Nil(t, rawsock.New(wrapped{a}), "a type wrapping a socket may do more in Read and Write")
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	assert.Nil(t, rawsock.New(p), "a pipe has no descriptor")
	assert.Same(t, io.Reader(p), rawsock.Reader(p, 0))
	_, ok := rawsock.Reader(a, 0).(*rawsock.Conn)
	assert.True(t, ok)
}

func TestReadWaitsForDataAndEndsAtEOF(t *testing.T) {
	a, b := unixPair(t)
	s := rawsock.New(a)
	buf := make([]byte, 16)
	_, err := s.ReadNow(buf)
	assert.ErrorIs(t, err, rawsock.ErrWouldBlock, "nothing has come")

	go func() {
		time.Sleep(20 * time.Millisecond)
		b.Write([]byte("hello"))
		b.Close()
	}()
	n, err := s.Read(buf)
	require.NoError(t, err, "Read waits for the data")
	assert.Equal(t, "hello", string(buf[:n]))
	_, err = s.Read(buf)
	assert.ErrorIs(t, err, io.EOF)
}

func TestReadHonoursTheDeadlineAndClose(t *testing.T) {
	a, _ := unixPair(t)
	s := rawsock.New(a)
	require.NoError(t, a.SetReadDeadline(time.Now().Add(30*time.Millisecond)))
	start := time.Now()
	_, err := s.Read(make([]byte, 8))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 25*time.Millisecond)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	var oe *net.OpError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "read", oe.Op, "shaped as net.Conn.Read's error: %v", err)

	require.NoError(t, a.SetReadDeadline(time.Time{}))
	done := make(chan error, 1)
	go func() {
		_, err := s.Read(make([]byte, 8))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	a.Close()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, net.ErrClosed, "Close wakes a waiting Read")
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the Read")
	}
}

func TestWriteWaitsForRoomAndWriteNowDoesNot(t *testing.T) {
	a, b := unixPair(t)
	require.NoError(t, a.SetWriteBuffer(8<<10))
	s := rawsock.New(a)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB, far past the buffers

	n, err := s.WriteNow(big)
	require.ErrorIs(t, err, rawsock.ErrWouldBlock, "nobody reads: not all of it fits")
	assert.Positive(t, n)
	assert.Less(t, n, len(big))
	got := make([]byte, n)
	_, err = io.ReadFull(b, got)
	require.NoError(t, err)
	assert.Equal(t, big[:n], got, "what WriteNow took went out")

	read := make(chan []byte, 1)
	go func() {
		all, _ := io.ReadAll(io.LimitReader(b, int64(len(big))))
		read <- all
	}()
	n, err = s.Write(big)
	require.NoError(t, err)
	assert.Equal(t, len(big), n)
	assert.Equal(t, big, <-read, "Write waited for room until all was out")
}

func TestWriteHonoursTheDeadlineAndReportsErrorsAsNetDoes(t *testing.T) {
	a, b := unixPair(t)
	require.NoError(t, a.SetWriteBuffer(8<<10))
	s := rawsock.New(a)
	big := make([]byte, 1<<20)
	require.NoError(t, a.SetWriteDeadline(time.Now().Add(30*time.Millisecond)))
	n, err := s.Write(big)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "nobody reads")
	assert.Less(t, n, len(big))
	require.NoError(t, a.SetWriteDeadline(time.Time{}))

	b.Close()
	for range 100 { // the peer's end is gone: the write fails (EPIPE or ECONNRESET)
		if _, err = s.Write([]byte("x")); err != nil {
			break
		}
	}
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET), "%v", err)
	var oe *net.OpError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "write", oe.Op)
	var se *os.SyscallError
	assert.ErrorAs(t, err, &se)
}

// A read and a write may run at once, and several goroutines may read
// and write (-race checks the Conn's own state).
func TestReadsAndWritesRunAtOnce(t *testing.T) {
	a, b := unixPair(t)
	sa, sb := rawsock.New(a), rawsock.New(b)
	const rounds, size = 200, 512
	errs := make(chan error, 4)
	echo := func() {
		buf := make([]byte, size)
		for range rounds {
			if _, err := io.ReadFull(sb, buf); err != nil {
				errs <- err
				return
			}
			if _, err := sb.Write(buf); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}
	go echo()
	go func() {
		msg := bytes.Repeat([]byte{7}, size)
		for range rounds {
			if _, err := sa.Write(msg); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	go func() {
		buf := make([]byte, size)
		for range rounds {
			if _, err := io.ReadFull(sa, buf); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for range 3 {
		require.NoError(t, <-errs)
	}
}

// What a goroutine did before it wrote to a socket happens before what
// reads the bytes from its peer, as with net.Conn: under -race, a report
// here would be the detector not told (see sys_unix.go).
func TestAWriteHappensBeforeThePeersRead(t *testing.T) {
	a, b := unixPair(t)
	sa, sb := rawsock.New(a), rawsock.New(b)
	answer := 0
	go func() {
		answer = 42
		_, _ = sa.Write([]byte{1})
	}()
	_, err := io.ReadFull(sb, make([]byte, 1))
	require.NoError(t, err)
	assert.Equal(t, 42, answer)
}
