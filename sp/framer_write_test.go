package sp

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
)

// unixPair is a connected pair of unix sockets.
func unixPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	require.NoError(t, err)
	defer ln.Close()
	a, err := net.Dial("unix", ln.Addr().String())
	require.NoError(t, err)
	b, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.UnixConn), b.(*net.UnixConn)
}

// deadlineCounter counts the write deadlines set on a socket.
type deadlineCounter struct {
	*net.UnixConn
	sets int
}

func (d *deadlineCounter) SetWriteDeadline(t time.Time) error {
	d.sets++
	return d.UnixConn.SetWriteDeadline(t)
}

// Under a WriteTimeout, a frame the socket takes at once is written
// without a deadline (setting one is a timer change a frame); a frame
// that must wait for the peer to read gets one and still goes out whole,
// and a peer that reads nothing makes the write fail at the timeout.
func TestAWriteTimeoutSetsADeadlineOnlyForAWriteThatWaits(t *testing.T) {
	a, b := unixPair(t)
	require.NoError(t, a.SetWriteBuffer(8<<10))
	fr := NewFramer(a, a, abi.MustLookup("amd64"))
	require.NotNil(t, fr.wnow, "a unix socket is written through its descriptor")
	w := &deadlineCounter{UnixConn: a}
	fr.wd = w // counts the deadlines the Framer sets
	fr.WriteTimeout = 5 * time.Second
	peer := NewFramer(b, b, abi.MustLookup("amd64"))

	for i := range 100 {
		require.NoError(t, fr.WriteFrame(Header{Reqno: uint64(i), Class: ClassResp, Type: TypeSyscall}, make([]byte, 48)))
		f, err := peer.ReadFrame()
		require.NoError(t, err)
		require.Equal(t, uint64(i), f.Reqno)
	}
	assert.Zero(t, w.sets, "frames the socket took at once set write deadlines")

	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // far past the socket's buffers
	got := make(chan []byte, 1)
	go func() {
		f, err := peer.ReadFrame()
		if err != nil {
			got <- nil
			return
		}
		got <- f.Body
	}()
	require.NoError(t, fr.WriteFrame(Header{Reqno: 1000, Class: ClassReq, Type: TypeCopyOut}, big))
	assert.Equal(t, big, <-got, "the frame that waited for room arrived whole")
	require.Equal(t, 1, w.sets, "the write that waited has its deadline")

	fr.WriteTimeout = 200 * time.Millisecond
	start := time.Now()
	err := fr.WriteFrame(Header{Reqno: 1001, Class: ClassReq, Type: TypeCopyOut}, big)
	require.Error(t, err, "nobody reads: the write must fail")
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "%v", err)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "the write failed before its timeout")
}

// countingConn is a connection that does more in Write than the socket.
type countingConn struct {
	*net.UnixConn
	writes int
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes++
	return c.UnixConn.Write(b)
}

// A connection that embeds a socket but has a Write of its own sees
// every frame, deadline or not: only a bare socket is written through
// its descriptor. A failed write reads as net.Conn.Write's error.
func TestAConnectionWithItsOwnWriteSeesEveryFrame(t *testing.T) {
	a, b := unixPair(t)
	w := &countingConn{UnixConn: a}
	fr := NewFramer(a, w, abi.MustLookup("amd64"))
	fr.WriteTimeout = 5 * time.Second
	assert.Nil(t, fr.wnow)
	for i := range 10 {
		require.NoError(t, fr.WriteFrame(Header{Reqno: uint64(i), Class: ClassResp, Type: TypeSyscall}, make([]byte, 48)))
	}
	assert.Equal(t, 10, w.writes)

	direct := NewFramer(a, a, abi.MustLookup("amd64"))
	direct.WriteTimeout = 5 * time.Second
	b.Close()
	var err error
	for range 100 { // the peer's end shows once the kernel has noticed it
		if err = direct.WriteFrame(Header{Class: ClassResp, Type: TypeSyscall}, make([]byte, 48)); err != nil {
			break
		}
	}
	var op *net.OpError
	require.ErrorAs(t, err, &op, "%v", err)
	assert.Equal(t, "write", op.Op)
}
