//go:build !linux

package sp

import "syscall"

// unixSocketControl is nil where the socket's mode cannot be set before bind
// (BSDs, macOS, wasip1). Listen then relies on chmod after bind alone; see
// listenUnix for the resulting window.
var unixSocketControl func(network, address string, c syscall.RawConn) error
