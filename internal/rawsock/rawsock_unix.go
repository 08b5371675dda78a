//go:build unix

package rawsock

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn is one socket's descriptor I/O. Its reads are serialized among
// themselves, and its writes among themselves, as net.Conn's are; a read
// and a write may run at once.
type Conn struct {
	id   uint64 // for the record of wakes (see awake)
	conn net.Conn
	rc   syscall.RawConn
	netw string       // "unix" or "tcp", for errors
	spin atomic.Int64 // nanoseconds Read polls before it waits; 0: never

	rmu   sync.Mutex
	read  func(uintptr) bool // bound once: a read allocates nothing
	rwait bool               // under rmu: the read waits for data
	rb    []byte
	rn    int
	rerr  syscall.Errno

	spinSkip    int // under rmu: Reads left that wait without polling
	spinBackoff int // under rmu: spinSkip after the next fruitless poll

	wmu   sync.Mutex
	write func(uintptr) bool
	wwait bool // under wmu: the write waits for room until all is out
	wb    []byte
	wn    int
	werr  syscall.Errno
}

// New returns c's descriptor I/O, or nil when c is not a bare unix or TCP
// socket (see the package doc).
func New(c net.Conn) *Conn {
	var netw string
	switch c.(type) {
	case *net.UnixConn:
		netw = "unix"
	case *net.TCPConn:
		netw = "tcp"
	default:
		return nil
	}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil
	}
	s := &Conn{id: connIDs.Add(1), conn: c, rc: rc, netw: netw}
	s.read, s.write = s.readFd, s.writeFd
	s.active(clock()) // a new connection is in use (see ActiveWithin)
	return s
}

// Reader returns r's descriptor reads when r is a bare socket, polling
// for up to spin before each wait (see SetSpin), else r.
func Reader(r io.Reader, spin time.Duration) io.Reader {
	if c, ok := r.(net.Conn); ok {
		if s := New(c); s != nil {
			s.SetSpin(spin)
			return s
		}
	}
	return r
}

// SetSpin makes Read poll the socket for up to d (at most MaxSpin) before
// it waits in the netpoller; 0 (the default) never polls.
//
// Polling trades CPU for latency: a reply that comes within d is read
// without this process's thread going to sleep and being woken, which on
// a virtual machine is an interrupt to a halted virtual CPU and can cost
// more than the round trip. What it may cost others is bounded: only one
// Read of the process polls at a time; none starts while a Read of
// another Conn in use, one that read data within the last ActiveWithin
// or was made since, waits in the netpoller (a server polls for its busy
// client beside idle ones, not beside another busy one); none does
// unless the process has
// another P and another CPU (see mayPoll); a poll lets the goroutines
// queued behind it run now and then, and, while another Read sleeps, the
// threads the kernel queued behind it on its CPU (yieldEvery); and a
// Conn whose poll found nothing skips polling for its next few Reads (1,
// 2, 4 … 64 of them, reset by a poll that finds data), so an idle
// connection costs one fruitless poll now and then.
func (s *Conn) SetSpin(d time.Duration) { s.spin.Store(int64(min(max(d, 0), MaxSpin))) }

// spinners is how many Reads of the process poll now (at most one), and
// sleepers how many wait in the netpoller.
var spinners, sleepers atomic.Int32

// ActiveWithin is how recently another Conn must have had data to keep a
// Read from polling. A poller's thread keeps its CPU busy, and the kernel
// may queue a sleeper's thread, when its data comes, behind it: with
// nothing else holding the poller back, a connection that got a byte
// every 5 ms waited 3 ms (p90) behind another's poller. A connection in
// use has data more often than this, so no poll starts while it waits
// (one under way runs its course, DefaultSpin at most, yielding); an
// idle one's next data may find a poller, which yields its CPU every
// yieldEvery while anything sleeps. A new Conn counts as in use for its first
// ActiveWithin, so that a connection's first exchanges are not the ones
// that wait.
const ActiveWithin = 100 * time.Millisecond

// connIDs numbers Conns, for the record of activity.
var connIDs atomic.Uint64

// lastID is the Conn that last had data, at lastAt; otherAt is when one
// other than it last did (nanoseconds since epoch): so that a Conn can
// tell when another than itself last had data. They are atomics, not a
// locked pair, as every read that finds data records itself: two Conns
// recording at once may leave otherAt a little late or early, which
// moves a decision by as much.
var (
	lastID          atomic.Uint64
	lastAt, otherAt atomic.Int64
	epoch           = time.Now()
)

// active records that s had data at now (see clock).
func (s *Conn) active(now int64) {
	if lastID.Load() != s.id {
		otherAt.Store(lastAt.Load())
		lastID.Store(s.id)
	}
	lastAt.Store(now)
}

// othersActive reports whether another Conn of the process had data
// within ActiveWithin of now.
func (s *Conn) othersActive(now int64) bool {
	at := lastAt.Load()
	if lastID.Load() == s.id {
		at = otherAt.Load()
	}
	return at != 0 && now-at < int64(ActiveWithin)
}

// clock is the monotonic time in nanoseconds since epoch, never 0.
func clock() int64 { return int64(time.Since(epoch)) + 1 }

// yieldEvery is how often a poll lets the goroutines queued behind it run:
// at its start, so that a reader whose polls always find data (a client
// calling back to back) cannot keep its P from them, and then every so
// often, rarely enough that the scheduler, finding nothing else to run
// while the poller runs, still waits in the netpoller for the others'
// data. After the first, while another Read of the process sleeps, the
// poll yields its CPU too (osYield), to a sleeper's thread the kernel
// woke behind it; not at its start, which cost a busy client's poll its
// gain (a getpid beside an idle connection took 24 µs, as with no
// polling, against 7 µs).
const yieldEvery = 20 * time.Microsecond

// mayPoll reports whether a Read of s may poll now: with no Read of
// another Conn in use (see ActiveWithin) waiting in the netpoller, and a
// P and a CPU left for the rest of the process (GOMAXPROCS follows a
// container's CPU quota, NumCPU the affinity mask). A Conn in use that
// waits for nothing now (a server's, busy with its request; a client's,
// between calls) cannot be kept waiting by a poll, and should it start
// waiting, the poll yields its CPU (yieldEvery): a client process whose
// connections take turns polls for each in its turn.
func (s *Conn) mayPoll() bool {
	return s.spin.Load() > 0 && s.spinSkip == 0 &&
		(sleepers.Load() == 0 || !s.othersActive(clock())) &&
		runtime.NumCPU() > 1 && runtime.GOMAXPROCS(0) > 1
}

func (s *Conn) readFd(fd uintptr) bool {
	for {
		n, e := sysRead(fd, s.rb)
		if e == syscall.EINTR {
			continue
		}
		s.rn, s.rerr = n, e
		return !s.rwait || e != syscall.EAGAIN
	}
}

func (s *Conn) writeFd(fd uintptr) bool {
	for {
		n, e := sysWrite(fd, s.wb[s.wn:])
		switch {
		case e == syscall.EINTR:
			continue
		case e == 0:
			s.wn += n
			if s.wn < len(s.wb) {
				continue // a socket may take part of it; the rest may fit now
			}
			return true
		case e == syscall.EAGAIN:
			return !s.wwait
		}
		s.werr = e
		return true
	}
}

// Read reads into p as net.Conn.Read does: it waits (in Go's network
// poller, under the read deadline) until data comes, and returns io.EOF
// at the end of the stream.
func (s *Conn) Read(p []byte) (int, error) { return s.readOnce(p, true) }

// ReadNow reads what the socket holds without waiting: ErrWouldBlock when
// nothing is there.
func (s *Conn) ReadNow(p []byte) (int, error) { return s.readOnce(p, false) }

func (s *Conn) readOnce(p []byte, wait bool) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.rmu.Lock()
	s.rb, s.rwait = p, false
	cerr := s.rc.Read(s.read)
	if wait && cerr == nil && s.rerr == syscall.EAGAIN {
		cerr = s.waitRead()
	}
	n, e := s.rn, s.rerr
	s.rb, s.rn, s.rerr = nil, 0, 0
	s.rmu.Unlock()
	if cerr == nil && e == 0 { // data or the end, not a deadline or Close
		s.active(clock())
	}
	switch {
	case cerr != nil:
		return 0, s.opError("read", cerr)
	case e == syscall.EAGAIN:
		return 0, ErrWouldBlock
	case e != 0:
		return 0, s.opError("read", os.NewSyscallError("read", e))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// waitRead is a Read's wait for data, under rmu after a first try found
// none: a poll first when SetSpin asks for one and it may (see there),
// then the netpoller's wait.
func (s *Conn) waitRead() error {
	if polled, err := s.poll(); err != nil || polled && s.rerr != syscall.EAGAIN {
		return err
	}
	s.rwait = true
	sleepers.Add(1)
	err := s.rc.Read(s.read)
	sleepers.Add(-1)
	return err
}

// poll retries the read for up to the Conn's spin when it may, and keeps
// its backoff; polled reports whether it did.
func (s *Conn) poll() (polled bool, err error) {
	if !s.mayPoll() {
		s.spinSkip = max(s.spinSkip-1, 0)
		return false, nil
	}
	defer spinners.Add(-1)
	if spinners.Add(1) != 1 {
		return false, nil // another Read polls
	}
	start, spin := time.Now(), time.Duration(s.spin.Load())
	yielded := time.Duration(-yieldEvery)
	for s.rerr == syscall.EAGAIN {
		since := time.Since(start)
		if since >= spin {
			break
		}
		if since-yielded >= yieldEvery {
			runtime.Gosched()
			if yielded >= 0 && sleepers.Load() > 0 {
				osYield()
			}
			yielded = since
		}
		if err := s.rc.Read(s.read); err != nil {
			return true, err
		}
	}
	if s.rerr != syscall.EAGAIN {
		s.spinBackoff = 0
	} else {
		s.spinBackoff = min(max(2*s.spinBackoff, 1), 64)
		s.spinSkip = s.spinBackoff
	}
	return true, nil
}

// Write writes all of b as net.Conn.Write does: it waits (in Go's network
// poller, under the write deadline) for room as long as that takes.
func (s *Conn) Write(b []byte) (int, error) { return s.writeAll(b, true) }

// WriteNow writes what the socket takes of b at once: n bytes, and
// ErrWouldBlock when that is not all.
func (s *Conn) WriteNow(b []byte) (int, error) { return s.writeAll(b, false) }

func (s *Conn) writeAll(b []byte, wait bool) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	s.wmu.Lock()
	s.wb, s.wwait = b, wait
	cerr := s.rc.Write(s.write)
	n, e := s.wn, s.werr
	s.wb, s.wn, s.werr = nil, 0, 0
	s.wmu.Unlock()
	switch {
	case cerr != nil:
		return n, s.opError("write", cerr)
	case e != 0:
		return n, s.opError("write", os.NewSyscallError("write", e))
	case n < len(b):
		return n, ErrWouldBlock
	}
	return n, nil
}

// opError shapes err as net.Conn's Read and Write report theirs (a
// RawConn reports its own as "raw-read" and "raw-write").
func (s *Conn) opError(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return &net.OpError{Op: op, Net: s.netw, Source: s.conn.LocalAddr(), Addr: s.conn.RemoteAddr(), Err: err}
}
