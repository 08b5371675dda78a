//go:build !unix

package rawsock

import (
	"io"
	"net"
	"time"
)

// Conn is a socket's descriptor I/O; off unix there is none.
type Conn struct{}

// New returns nil off unix.
func New(net.Conn) *Conn { return nil }

// Reader returns r.
func Reader(r io.Reader, _ time.Duration) io.Reader { return r }

// SetSpin does nothing off unix.
func (*Conn) SetSpin(time.Duration) {}

func (*Conn) Read([]byte) (int, error)     { return 0, ErrWouldBlock }
func (*Conn) ReadNow([]byte) (int, error)  { return 0, ErrWouldBlock }
func (*Conn) Write([]byte) (int, error)    { return 0, ErrWouldBlock }
func (*Conn) WriteNow([]byte) (int, error) { return 0, ErrWouldBlock }
