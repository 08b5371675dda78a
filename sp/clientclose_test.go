package sp_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// closeConn tells when it is closed.
type closeConn struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *closeConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// Close while the reading caller has read its reply but not yet given
// up its reading: nobody reads after it, so Close must end the
// connection itself rather than wait for a reader to.
func TestCloseWhileTheReaderHoldsItsReplyReturns(t *testing.T) {
	url, _ := fakeServer(t, goldenBanner, func(conn net.Conn) error {
		f, err := acceptedGuest(conn)
		if err != nil {
			return err
		}
		s, err := f.expect(sp.ClassReq, sp.TypeSyscall)
		if err != nil {
			return err
		}
		return f.reply(s.Reqno, 0, [2]uint64{1, 0})
	})
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	raw, err := u.Dial(ctxT(t))
	require.NoError(t, err)
	conn := &closeConn{Conn: raw.(net.Conn), closed: make(chan struct{})}
	cfg := sp.DefaultClientConfig(mustABI("amd64"))
	var c *sp.Client
	closed := make(chan error, 1)
	cfg.Trace = func(d sp.Direction, f *sp.Frame) {
		if d == sp.Received && f.Type == sp.TypeSyscall {
			go func() { closed <- c.Close() }()
			<-conn.closed
			time.Sleep(50 * time.Millisecond) // Close looks whether anybody reads
		}
	}
	c, err = sp.NewClient(conn, cfg)
	require.NoError(t, err)
	require.NoError(t, c.HandshakeGuest(ctxT(t)))
	_, err = c.Syscall(context.Background(), netbsd.SYS_getpid)
	require.NoError(t, err)
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		require.FailNow(t, "Close hangs: nobody ends the connection")
	}
}
