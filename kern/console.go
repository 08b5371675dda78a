package kern

import (
	"io"
	"sync"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// console is the rump console (rumpcons, sys/rump/librump/rumpkern/
// cons.c): a write-only character device that relays its bytes to the
// host's standard output, put on descriptors 0, 1 and 2 of every GUEST
// process. It pretends to be a tty just enough for isatty(): TIOCGETA
// succeeds (with a zeroed struct termios) and every other ioctl is
// ENOTTY. Reading is EBADF (the file is write-only), seeking ESPIPE.
type console struct {
	mu   sync.Mutex
	w    io.Writer
	boot netbsd.Timespec
}

func newConsole(w io.Writer, boot netbsd.Timespec) *console {
	if w == nil {
		w = io.Discard
	}
	return &console{w: w, boot: boot}
}

// write hands one chunk to the host; rumpuser_putchar cannot fail, so a
// failing writer loses the bytes and the write still succeeds.
func (c *console) write(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.w.Write(b)
	return err
}

// ioctl is rumpcons_ioctl.
func (c *console) ioctl(cmd uint64) netbsd.Errno {
	if cmd == netbsd.TIOCGETA {
		return 0
	}
	return netbsd.ENOTTY
}

// stat is rumpcons_stat: zeros but for the mode and the boot time.
func (c *console) stat() netbsd.Stat {
	return netbsd.Stat{Mode: netbsd.S_IFCHR | 0o600,
		Atim: c.boot, Mtim: c.boot, Ctim: c.boot, Birthtim: c.boot}
}
