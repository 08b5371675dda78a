//go:build !unix

package sp

import (
	"net"
	"syscall"
)

// nowWriter: off unix, every write under a WriteTimeout sets a deadline.
type nowWriter struct{}

func newNowWriter(syscall.RawConn, net.Conn) *nowWriter { return nil }

func (*nowWriter) writeNow([]byte) (int, error) { return 0, errWouldWait }
