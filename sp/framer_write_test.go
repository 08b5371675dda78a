package sp

import (
	"bytes"
	"io"
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

// A frame with large data goes out in one gathered write, after the
// frames held before it, without its data being copied behind its
// header; it arrives as any frame does, and a Trace hook sees it whole.
// Elsewhere (a writer that is not a bare socket) it is written the
// ordinary way, with the same bytes.
func TestAFrameWithLargeDataIsWrittenFromWhereTheDataLies(t *testing.T) {
	d := abi.MustLookup("amd64")
	head := []byte("0123456789abcdef")
	data := bytes.Repeat([]byte("data"), gatherMin/2)
	for _, via := range []string{"socket", "buffer"} {
		t.Run(via, func(t *testing.T) {
			a, b := unixPair(t)
			var fr *Framer
			var buf bytes.Buffer
			if via == "socket" {
				fr = NewFramer(a, a, d)
			} else {
				fr = NewFramer(nil, &buf, d)
			}
			var traced []*Frame
			fr.Trace = func(_ Direction, f *Frame) { traced = append(traced, f) }
			held, err := fr.appendFrame(nil, Header{Reqno: 1, Class: ClassReq, Type: TypeCopyOut}, []byte("held"))
			require.NoError(t, err)
			got := make(chan []*Frame, 1)
			peer := NewFramer(b, nil, d)
			if via == "buffer" {
				peer = NewFramer(&buf, nil, d)
			}
			read := func() {
				var fs []*Frame
				for range 2 {
					f, err := peer.ReadFrame()
					if err != nil {
						break
					}
					fs = append(fs, f)
				}
				got <- fs
			}
			if via == "socket" {
				go read() // the frame is larger than the socket's buffer
			}
			require.NoError(t, fr.writeFrameData(held, Header{Reqno: 2, Class: ClassReq, Type: TypeCopyOut}, head, data))
			if via == "buffer" {
				read()
			}
			fs := <-got
			require.Len(t, fs, 2)
			assert.Equal(t, []byte("held"), fs[0].Body)
			assert.Equal(t, uint64(2), fs[1].Reqno)
			assert.Equal(t, append(append([]byte(nil), head...), data...), fs[1].Body, "the frame's body")
			require.Len(t, traced, 2)
			assert.Equal(t, fs[1].Body, traced[1].Body, "what the hook saw")
			if via == "socket" {
				assert.Less(t, cap(fr.wbuf), len(data), "the data was copied into the write buffer")
			}
		})
	}
}

// A Framer without gathered writes (the wasm guest's connection is no
// socket) keeps its write buffer for frames carrying 64 KiB of data, with
// and without COPYOUTs held before them: writing one allocates nothing.
func TestA64KiBFrameIsWrittenFromTheKeptBuffer(t *testing.T) {
	data := make([]byte, 64<<10)
	head := make([]byte, maxCopydata)
	held := make([]byte, maxHeld-HeaderSize-maxCopydata-1)
	for _, tc := range []struct {
		name         string
		before, head []byte
	}{
		{"a COPYIN answer", nil, nil},
		{"a COPYOUT", nil, head},
		{"a COPYOUT after held ones", held, head},
	} {
		f := NewFramer(nil, io.Discard, abi.MustLookup("amd64"))
		var err error
		allocs := testing.AllocsPerRun(20, func() {
			err = f.writeFrameData(tc.before, Header{Class: ClassResp, Type: TypeCopyIn}, tc.head, data)
		})
		require.NoError(t, err)
		assert.Zero(t, allocs, "allocations writing %s of 64 KiB", tc.name)
	}
}
