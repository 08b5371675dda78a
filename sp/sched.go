package sp

import "sync"

// How a Server shares its workers (the reasons, written down once):
//
//   - Every connection has its own FIFO of syscalls waiting for a
//     worker. The scheduler takes them round-robin over the connections
//     that have any, one syscall per turn, so a client's backlog of
//     10,000 pipelined calls delays another client's next call by at
//     most one call per connection with work, not by the backlog.
//   - A connection runs at most MaxSyscallsPerClient syscalls at once;
//     the rest of its calls wait in its queue. Syscalls that block in
//     the kernel (a read on an empty pipe) or on their client (a COPYIN
//     never answered, a reply the client does not read) keep their
//     worker: that is the C server's model, where a syscall is an lwp.
//   - MaxSyscalls (the C server's 128 workers) bounds the syscalls
//     running at once server-wide, blocked ones included. But a
//     connection with no syscall running may always start one, even
//     beyond MaxSyscalls, so the pool grows to at most MaxSyscalls +
//     MaxClients workers and clients whose syscalls block cannot starve
//     one whose syscalls do not.
//   - Queued syscalls are bounded server-wide (MaxQueuedSyscalls). Only
//     when that queue is full is a SYSCALL answered TRYAGAIN, and then
//     at the expense of the client that holds the most queued calls: if
//     that is another client, its newest queued call is answered
//     TRYAGAIN (its C client resends it) and the newcomer takes its
//     place.
//   - A quick syscall (the kernel says it cannot block, QuickKernel) of
//     a connection with nothing queued or running, while nobody waits
//     for a worker, runs at once on the connection's reading goroutine
//     (tryInline): no worker wakes, which on a VM is most of a round
//     trip's cost. It holds a running slot as a worker would, so
//     MaxSyscalls still bounds everything; a connection's reader runs
//     one call at a time, so a pipelining client cannot take more than
//     a worker's share; and a quick call that must wait for its client
//     (a COPYIN) hands reading to a new goroutine before it waits.
type scheduler struct {
	mu   sync.Mutex
	wake *sync.Cond // idle workers wait here

	ring    []*serverConn // connections with queued calls, in turn order
	queued  int           // calls in all queues
	running int           // calls on workers
	workers int           // worker goroutines, busy or idle
	idle    int           // workers waiting on wake and not yet signalled

	maxRunning, perConn, maxIdle, maxQueued int

	closing  bool // Shutdown began: no new calls
	stopped  bool // idle workers end
	inflight sync.WaitGroup
}

// call is one SYSCALL request between its arrival and its reply.
type call struct {
	f     *Frame
	bytes int64 // taken from the connection's and the server's budgets
	// inline: the reading goroutine runs the call (tryInline);
	// handedOff: it had to give reading to a new goroutine first.
	inline, handedOff bool
	// held are encoded COPYOUT frames waiting to go out with the call's
	// next frame (ServerConfig.CoalesceCopyOut).
	held []byte
	// pre is what the client preloaded for the call (PRELOAD), if anything.
	pre *preload
	// copyIn is room for a COPYIN answer, kept with the call's recycled
	// allocation (syscallFrame.reset) so that a pwrite's bytes cost no
	// allocation; lent says this syscall has lent it already (lendCopyIn).
	copyIn []byte
	lent   bool

	// What running the call needs, in the call's own allocation.
	own  *syscallFrame // the allocation, when the call came in one
	req  SyscallRequest
	mem  connMemory
	resp [maxSysresp]byte // the encoded rsp_sysresp
}

// maxSysresp is room for an rsp_sysresp on every ABI sprig has (24
// bytes on LP64); a larger one is allocated.
const maxSysresp = 32

// syscallFrame is a SYSCALL request with a small argument struct and the
// call that runs it, allocated together, and recycled for the next
// SYSCALL once the call is answered (serverConn.spare).
type syscallFrame struct {
	frameSmall
	c call
}

// reset readies a recycled frame for the next SYSCALL, keeping the room
// its call's COPYOUT buffer grew and its COPYIN room.
func (sf *syscallFrame) reset() {
	held, in := sf.c.held[:0], sf.c.copyIn
	*sf = syscallFrame{}
	sf.c.held, sf.c.copyIn = held, in
}

// lendCopyIn lends c's COPYIN room, grown to n bytes, for the rest of
// its syscall: lent from now until the next (reset).
func (c *call) lendCopyIn(n uint64) []byte {
	if uint64(cap(c.copyIn)) < n {
		c.copyIn = make([]byte, n)
	}
	c.lent = true
	return c.copyIn[:n]
}

// callOverhead is what a queued call costs besides its frame's bytes.
const callOverhead = 128

// connQueue is a connection's part of the scheduler, guarded by
// scheduler.mu.
type connQueue struct {
	calls   []*call // FIFO: calls[0] runs next
	running int
	inRing  bool
	gone    bool // the connection dropped its queue for good
}

func newScheduler(maxRunning, perConn, maxIdle, maxQueued int) *scheduler {
	s := &scheduler{maxRunning: maxRunning, perConn: perConn, maxIdle: maxIdle, maxQueued: maxQueued}
	s.wake = sync.NewCond(&s.mu)
	return s
}

// submitResult says what became of a submitted call.
type submitResult struct {
	ok bool // queued; false: answer it TRYAGAIN
	// evicted, when set, is another connection's newest queued call,
	// pushed out to make room; its connection must answer it TRYAGAIN.
	evicted *call
	victim  *serverConn
}

// submit queues c for sc and starts or wakes a worker for it.
func (s *scheduler) submit(sc *serverConn, c *call) submitResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &sc.q
	if s.closing || q.gone {
		return submitResult{}
	}
	var res submitResult
	if s.queued >= s.maxQueued {
		victim := s.biggestLocked()
		if victim == nil || victim == sc || len(victim.q.calls) <= len(q.calls) {
			return submitResult{}
		}
		vq := &victim.q
		res.evicted = vq.calls[len(vq.calls)-1]
		vq.calls[len(vq.calls)-1] = nil
		vq.calls = vq.calls[:len(vq.calls)-1]
		res.victim = victim
		s.queued--
		s.inflight.Done()
		if len(vq.calls) == 0 {
			s.leaveRingLocked(victim)
		}
		victim.aux.Add(1) // the victim's TRYAGAIN is sent by its own goroutine
	}
	res.ok = true
	s.inflight.Add(1)
	q.calls = append(q.calls, c)
	s.queued++
	if !q.inRing {
		q.inRing = true
		s.ring = append(s.ring, sc)
	}
	s.wakeLocked()
	return res
}

// wakeLocked gets a queued call going: an idle worker wakes for it, or a
// new worker starts with the next call that may run.
func (s *scheduler) wakeLocked() {
	if s.idle > 0 {
		s.idle--
		s.wake.Signal()
	} else if next, nc := s.pickLocked(); nc != nil {
		s.workers++
		go s.work(next, nc)
	}
}

// startLocked and doneLocked count a call of sc onto and off a running
// slot, whether a worker or sc's reader (inline) runs it.
func (s *scheduler) startLocked(sc *serverConn) {
	sc.q.running++
	s.running++
	sc.syscalls.Add(1) // under s.mu: dropQueue's caller waits only after
}

func (s *scheduler) doneLocked(sc *serverConn) {
	sc.q.running--
	s.running--
	sc.syscalls.Done()
	s.inflight.Done()
}

// tryInline claims a running slot for sc's call to run at once on sc's
// reading goroutine: only when sc has nothing queued or running (its
// calls keep their order, and it holds one slot as a worker would) and
// nobody waits for a worker (the ring is empty), within MaxSyscalls.
// True means the caller runs the call and then calls finishInline.
func (s *scheduler) tryInline(sc *serverConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &sc.q
	if s.closing || q.gone || len(q.calls) > 0 || q.running > 0 || len(s.ring) > 0 || s.running >= s.maxRunning {
		return false
	}
	s.startLocked(sc)
	s.inflight.Add(1)
	return true
}

// finishInline gives back the slot of an inline call, and hands the
// slot to a waiting call if one queued meanwhile.
func (s *scheduler) finishInline(sc *serverConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doneLocked(sc)
	if len(s.ring) > 0 {
		s.wakeLocked()
	}
}

// biggestLocked returns the connection with the most queued calls.
func (s *scheduler) biggestLocked() *serverConn {
	var best *serverConn
	for _, sc := range s.ring {
		if best == nil || len(sc.q.calls) > len(best.q.calls) {
			best = sc
		}
	}
	return best
}

func (s *scheduler) canRunLocked(q *connQueue) bool {
	return q.running < s.perConn && (s.running < s.maxRunning || q.running == 0)
}

// pickLocked takes the next call in round-robin order: the first
// connection in the ring that may run one gives its oldest call and goes
// to the back of the ring.
func (s *scheduler) pickLocked() (*serverConn, *call) {
	for i, sc := range s.ring {
		q := &sc.q
		if !s.canRunLocked(q) {
			continue
		}
		c := q.calls[0]
		q.calls[0] = nil
		q.calls = q.calls[1:]
		if len(q.calls) == 0 {
			q.calls = nil // let the backing array go
		}
		s.queued--
		s.startLocked(sc)
		copy(s.ring[i:], s.ring[i+1:])
		s.ring = s.ring[:len(s.ring)-1]
		if len(q.calls) > 0 {
			s.ring = append(s.ring, sc)
		} else {
			q.inRing = false
		}
		return sc, c
	}
	return nil, nil
}

func (s *scheduler) leaveRingLocked(sc *serverConn) {
	for i, x := range s.ring {
		if x == sc {
			copy(s.ring[i:], s.ring[i+1:])
			s.ring[len(s.ring)-1] = nil
			s.ring = s.ring[:len(s.ring)-1]
			break
		}
	}
	sc.q.inRing = false
}

// work runs calls until none is left that may run, then idles (up to
// maxIdle workers) or ends.
func (s *scheduler) work(sc *serverConn, c *call) {
	for {
		sc.runCall(c)
		sc.recycle(c)
		s.mu.Lock()
		s.doneLocked(sc)
		for {
			if sc, c = s.pickLocked(); c != nil {
				break
			}
			if s.stopped || s.idle >= s.maxIdle {
				s.workers--
				s.mu.Unlock()
				return
			}
			s.idle++
			s.wake.Wait() // whoever signals has taken us off idle
		}
		s.mu.Unlock()
	}
}

// dropQueue removes sc's queued calls and returns them; with forever,
// sc also takes no new calls (it is going away).
func (s *scheduler) dropQueue(sc *serverConn, forever bool) []*call {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &sc.q
	calls := q.calls
	q.calls = nil
	s.queued -= len(calls)
	if q.inRing {
		s.leaveRingLocked(sc)
	}
	if forever {
		q.gone = true
	}
	for range calls {
		s.inflight.Done()
	}
	return calls
}

// load reports how many calls are queued for and running on sc.
func (s *scheduler) load(sc *serverConn) (queued, running int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(sc.q.calls), sc.q.running
}

// stats reports the scheduler's totals.
func (s *scheduler) stats() (queued, running, workers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queued, s.running, s.workers
}

// close refuses new calls; the queued and running ones go on.
func (s *scheduler) close() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
}

// stopIdle ends the idle workers; busy ones end after their last call.
func (s *scheduler) stopIdle() {
	s.mu.Lock()
	s.stopped = true
	s.idle = 0
	s.wake.Broadcast()
	s.mu.Unlock()
}
