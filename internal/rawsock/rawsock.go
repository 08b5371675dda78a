// Package rawsock reads and writes a unix or TCP socket through its file
// descriptor, as net.Conn does, but on Linux without the runtime's
// system-call bookkeeping: Go keeps sockets non-blocking, so a read or a
// write returns at once, and a wait for data or room is still Go's
// network poller's, with the connection's deadlines and Close.
//
// The bookkeeping is what it saves. Every read(2) and write(2) through
// net.Conn enters and leaves the scheduler's system-call state, and the
// first one after the process went idle wakes the runtime's monitor
// thread, which then polls every 20 µs until the process is idle again:
// in a ping-pong of small frames (sysproxy's null syscall) that was a
// fifth of sprig's server CPU per call (RATIONALE.md, "Sockets without
// the scheduler's system-call bookkeeping"). A Conn's Read may also poll
// for a while before it waits (SetSpin), so that a reply on its way is
// read by a thread that never slept (RATIONALE.md, "A reader polls
// before it sleeps").
//
// It is for sprig's own hot paths (package sp's framer, the wasm host's
// guest connections), not a general net.Conn: it takes only *net.UnixConn
// and *net.TCPConn, whose Read and Write are the descriptor's own, and it
// answers nil elsewhere (other platforms, wasm, test pipes, types that
// wrap a socket to count or throttle what passes), where callers use the
// connection as it is.
package rawsock

import (
	"errors"
	"time"
)

// DefaultSpin is what sprig's readers poll before they sleep (Conn's
// SetSpin): longer than a null syscall's round trip on the machines sprig
// is measured on, short enough that an idle peer costs next to nothing
// (RATIONALE.md, "A reader polls before it sleeps").
const DefaultSpin = 100 * time.Microsecond

// MaxSpin bounds SetSpin: polling is for replies on their way, not a
// substitute for sleeping.
const MaxSpin = 10 * time.Millisecond

// ErrWouldBlock is what ReadNow and WriteNow return when the socket has
// no data, or no room for all of the bytes, right now.
var ErrWouldBlock = errors.New("rawsock: the socket would block")
