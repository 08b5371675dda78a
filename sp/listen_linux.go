//go:build linux

package sp

import "syscall"

// unixSocketControl runs between socket(2) and bind(2) for a unix listener.
// On Linux, bind creates the socket file with the mode of the socket's own
// inode minus the umask, so setting that inode to 0600 here means the file
// never exists with wider permissions, not even for an instant.
func unixSocketControl(network, address string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = syscall.Fchmod(int(fd), uint32(unixSocketMode))
	}); cerr != nil {
		return cerr
	}
	return err
}
