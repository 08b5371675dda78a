package sp_test

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
	"github.com/rumpsprig/sprig/sp"
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
	w := &deadlineCounter{UnixConn: a}
	fr := sp.NewFramer(a, w, abi.MustLookup("amd64"))
	fr.WriteTimeout = 5 * time.Second
	peer := sp.NewFramer(b, b, abi.MustLookup("amd64"))

	for i := range 100 {
		require.NoError(t, fr.WriteFrame(sp.Header{Reqno: uint64(i), Class: sp.ClassResp, Type: sp.TypeSyscall}, make([]byte, 48)))
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
	require.NoError(t, fr.WriteFrame(sp.Header{Reqno: 1000, Class: sp.ClassReq, Type: sp.TypeCopyOut}, big))
	assert.Equal(t, big, <-got, "the frame that waited for room arrived whole")
	require.Equal(t, 1, w.sets, "the write that waited has its deadline")

	fr.WriteTimeout = 200 * time.Millisecond
	start := time.Now()
	err := fr.WriteFrame(sp.Header{Reqno: 1001, Class: sp.ClassReq, Type: sp.TypeCopyOut}, big)
	require.Error(t, err, "nobody reads: the write must fail")
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "%v", err)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "the write failed before its timeout")
}
