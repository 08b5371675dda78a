//go:build !unix

package wasmhost

import "syscall"

// haveNonblock: off unix there is no portable non-blocking read of a
// Go socket; hostConn falls back to a read with a very short deadline.
const haveNonblock = false

func readNonblock(syscall.RawConn, []byte) (int, error) { return 0, errWouldBlock }
