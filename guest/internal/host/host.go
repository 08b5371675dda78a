//go:build wasip1

package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

// eagain is what recv returns when its timeout passed with no data.
const eagain = -int32(guestapi.EAGAIN)

// pollMillis bounds one blocking recv. A host call blocks every goroutine
// of the guest, so the reader comes up for air this often and lets the
// others run (a goroutine that still has to send its request, say).
const pollMillis = 2

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
type Conn struct{ h int32 }

// Dial asks the host to connect to url.
func Dial(url string) (*Conn, error) {
	b := []byte(url)
	h := hostDial(ptr(b), uint32(len(b)))
	if h < 0 {
		return nil, fmt.Errorf("host: dial %s: %w", url, guestapi.Errno(-h))
	}
	return &Conn{h: h}, nil
}

// Read implements io.Reader, yielding to other goroutines between polls.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		// Let goroutines that still have a request to send run first: the
		// recv below blocks all of them until data comes or it times out.
		runtime.Gosched()
		n := hostRecv(c.h, ptr(p), uint32(len(p)), pollMillis)
		switch {
		case n > 0:
			return int(n), nil
		case n == 0:
			return 0, io.EOF
		case n == eagain:
			runtime.Gosched()
		default:
			return 0, fmt.Errorf("host: recv: %w", guestapi.Errno(-n))
		}
	}
}

// Write implements io.Writer; the host writes everything or fails.
func (c *Conn) Write(p []byte) (int, error) {
	n := hostSend(c.h, ptr(p), uint32(len(p)))
	if n < 0 {
		return 0, fmt.Errorf("host: send: %w", guestapi.Errno(-n))
	}
	return int(n), nil
}

// Close implements io.Closer.
func (c *Conn) Close() error {
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
