//go:build wasip1

package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

// eagain is what recv returns when no data has come.
const eagain = -int32(guestapi.EAGAIN)

// wakeFile is the host's file a connection's reader parks on (guest/README.md).
const wakeFile = "/sprig/wake"

// Config fetches the run configuration from the host.
func Config() (*guestapi.Config, error) {
	buf := make([]byte, 4096)
	for {
		n := hostConfig(ptr(buf), uint32(len(buf)))
		if n < 0 {
			return nil, fmt.Errorf("host: config: errno %d", -n)
		}
		if int(n) <= len(buf) {
			var c guestapi.Config
			if err := json.Unmarshal(buf[:n], &c); err != nil {
				return nil, fmt.Errorf("host: config: %w", err)
			}
			return &c, nil
		}
		buf = make([]byte, n)
	}
}

// Conn is a byte stream to a server, owned by the host.
//
// A host call blocks every goroutine of the guest, so Read waits in two
// steps. First it asks recv to wait up to fastWaitMillis: sp.Client's
// caller reads only after sending its request, whose reply usually comes
// well within that, and this path is the cheapest in Go's wasm runtime.
// It does not yield first: a pass through Go's scheduler (which polls
// the host) cost a fifth of a guest's round trip, and a goroutine with a
// request still to send waits at most fastWaitMillis, until Read parks.
// The host cuts that wait short at the guest's next timer as far as it
// knows it, so only a timer set since the guest last went idle can be
// late, by fastWaitMillis at most. When nothing came, Read parks on
// the connection's wake file like any goroutine waiting for a file: when
// no goroutine can run, Go's scheduler calls poll_oneoff with its next
// timer as the timeout, and the host waits there until the socket is
// readable or the timer is due. A long wait costs no CPU and delays no
// timer.
type Conn struct {
	h    int32
	wake *os.File
	raw  syscall.RawConn
}

// fastWaitMillis bounds Read's first wait in the host. It was 1 ms, which
// cost a fifth of a guest's getpid: the host waits with a read deadline,
// so the thread sleeping in Go's network poller sleeps with a timeout of
// at most this, and a kernel timer due before the next scheduler tick is
// armed and cancelled on every wait, which is slow in a virtual machine
// (RATIONALE.md, "A guest's first wait"). 20 ms is past the tick of a
// kernel running at 100 Hz or more.
const fastWaitMillis = 20

// Dial asks the host to connect to url.
func Dial(url string) (*Conn, error) {
	b := []byte(url)
	h := hostDial(ptr(b), uint32(len(b)))
	if h < 0 {
		return nil, fmt.Errorf("host: dial %s: %w", url, guestapi.Errno(-h))
	}
	c := &Conn{h: h}
	if err := c.bind(); err != nil {
		hostClose(h)
		return nil, fmt.Errorf("host: dial %s: %w", url, err)
	}
	return c, nil
}

// bind opens a wake file for the connection and tells the host its
// descriptor.
func (c *Conn) bind() error {
	f, err := os.Open(wakeFile)
	if err != nil {
		return err
	}
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return err
	}
	var fd uintptr
	raw.Control(func(d uintptr) { fd = d })
	if n := hostBind(c.h, int32(fd)); n < 0 {
		f.Close()
		return fmt.Errorf("bind: %w", guestapi.Errno(-n))
	}
	c.wake, c.raw = f, raw
	return nil
}

// Read implements io.Reader (see Conn for how it waits).
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n := hostRecv(c.h, ptr(p), uint32(len(p)), fastWaitMillis)
	if n == eagain {
		var err error
		if n, err = c.park(p); err != nil {
			return 0, err
		}
	}
	switch {
	case n > 0:
		return int(n), nil
	case n == 0:
		return 0, io.EOF
	default:
		return 0, fmt.Errorf("host: recv: %w", guestapi.Errno(-n))
	}
}

// park waits on the wake file until recv has something for p. It is
// apart from Read so that only a read that parks allocates: the result
// its closure sets lives on the heap.
func (c *Conn) park(p []byte) (int32, error) {
	var n int32
	err := c.raw.Read(func(uintptr) bool {
		n = hostRecv(c.h, ptr(p), uint32(len(p)), 0)
		return n != eagain
	})
	if err != nil { // the wake file was closed: Close ran
		return 0, fmt.Errorf("host: recv: %w", err)
	}
	return n, nil
}

// SetReadDeadline cuts a Read parked on the wake file short at t (with
// os.ErrDeadlineExceeded), so that sp.Client's caller reading its own
// reply can stop when its context ends. The first, short wait in the
// host is not cut: it ends within fastWaitMillis anyway.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.wake.SetReadDeadline(t) }

// Write implements io.Writer; the host writes everything or fails.
func (c *Conn) Write(p []byte) (int, error) {
	n := hostSend(c.h, ptr(p), uint32(len(p)))
	if n < 0 {
		return 0, fmt.Errorf("host: send: %w", guestapi.Errno(-n))
	}
	return int(n), nil
}

// Close implements io.Closer. A goroutine parked in Read wakes with an
// error.
func (c *Conn) Close() error {
	c.wake.Close()
	if n := hostClose(c.h); n < 0 {
		return fmt.Errorf("host: close: %w", guestapi.Errno(-n))
	}
	return nil
}

// Report sends one scenario result to the host.
func Report(r guestapi.Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if n := hostReport(ptr(b), uint32(len(b))); n < 0 {
		return fmt.Errorf("host: report: %w", guestapi.Errno(-n))
	}
	return nil
}

// Instance is another guest instance started with Spawn.
type Instance struct{ h int32 }

// ErrTimeout is returned by Wait when the instance is still running.
var ErrTimeout = errors.New("host: instance still running")

// Spawn starts a second instance of this guest with cfg.
func Spawn(cfg *guestapi.Config) (*Instance, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	h := hostSpawn(ptr(b), uint32(len(b)))
	if h < 0 {
		return nil, fmt.Errorf("host: spawn: %w", guestapi.Errno(-h))
	}
	return &Instance{h: h}, nil
}

// Wait waits up to timeoutMillis for the instance to exit and returns its
// exit code.
func (i *Instance) Wait(timeoutMillis int) (int, error) {
	n := hostWait(i.h, int32(timeoutMillis))
	if n == eagain {
		return 0, ErrTimeout
	}
	if n < 0 && n != eagain {
		return 0, fmt.Errorf("host: wait: %w", guestapi.Errno(-n))
	}
	return int(n), nil
}
