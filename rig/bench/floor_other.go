//go:build !unix

package bench

import "net"

// rawSocket: without unix descriptors the floor reads and writes through
// Go's net package (floor_unix.go says what that costs).
func rawSocket(c net.Conn) (net.Conn, error) { return c, nil }
