package scenario

import (
	"context"
	"sync"

	"github.com/rumpsprig/sprig/internal/flatmem"
	"github.com/rumpsprig/sprig/sp"
)

// frameLog counts the frames of one connection by direction, class and
// type, so a scenario can check that the server really used the message
// it is about (ANONMMAP for mmap, RAISE for kill), and how many syscalls
// were in flight at once.
type frameLog struct {
	mu       sync.Mutex
	counts   map[frameKey]int // frames of classes and types past known
	known    [2][3][9]int     // by direction, class and type, for the known ones
	sys      map[uint32]int   // SYSCALL requests sent, by number
	inFlight int
	maxIn    int
	raised   []uint32          // signal numbers of RAISE requests, in order
	reqs     map[uint64]uint32 // syscall number by request number
	answered uint32            // the syscall whose reply arrived last
}

type frameKey struct {
	dir   sp.Direction
	class sp.Class
	typ   sp.Type
}

func newFrameLog() *frameLog {
	return &frameLog{counts: map[frameKey]int{}, sys: map[uint32]int{}, reqs: map[uint64]uint32{}}
}

// trace is the client's Trace hook. Sent frames are seen before they are
// written, so a response is never counted before its request.
func (l *frameLog) trace(d sp.Direction, f *sp.Frame) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.slot(d, f.Class, f.Type); p != nil {
		*p++
	} else {
		l.counts[frameKey{d, f.Class, f.Type}]++
	}
	if f.Type != sp.TypeSyscall {
		if d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypeRaise {
			l.raised = append(l.raised, f.U)
		}
		return
	}
	switch {
	case d == sp.Sent && f.Class == sp.ClassReq:
		l.sys[f.U]++
		l.reqs[f.Reqno] = f.U
		l.inFlight++
		l.maxIn = max(l.maxIn, l.inFlight)
	case d == sp.Received && f.Class != sp.ClassReq:
		l.inFlight--
		l.answered = l.reqs[f.Reqno]
		delete(l.reqs, f.Reqno)
	}
}

// slot is the counter of a known direction, class and type; l.mu is held.
// Counting every frame in a map cost the wasm guest more than the frame's
// own decoding.
func (l *frameLog) slot(d sp.Direction, c sp.Class, t sp.Type) *int {
	if int(d) >= len(l.known) || int(c) >= len(l.known[0]) || int(t) >= len(l.known[0][0]) {
		return nil
	}
	return &l.known[d][c][t]
}

// lastAnswered returns the number of the syscall answered last.
func (l *frameLog) lastAnswered() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answered
}

// count returns how many frames of this kind went the given way.
func (l *frameLog) count(d sp.Direction, c sp.Class, t sp.Type) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.slot(d, c, t); p != nil {
		return *p
	}
	return l.counts[frameKey{d, c, t}]
}

// serverRequests returns how many requests of type t the server sent.
func (l *frameLog) serverRequests(t sp.Type) int { return l.count(sp.Received, sp.ClassReq, t) }

// sent returns how many SYSCALL requests for num the client sent.
func (l *frameLog) sent(num uint32) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sys[num]
}

// maxInFlight returns the most SYSCALL requests outstanding at once.
func (l *frameLog) maxInFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.maxIn
}

// raises returns the signal numbers of the RAISE requests so far.
func (l *frameLog) raises() []uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]uint32(nil), l.raised...)
}

// space is the guest's memory as the client serves it. It passes every
// request to the flat memory and records the anonymous mappings it handed
// out, so mmap-anon can check the server returned exactly that address.
type space struct {
	*flatmem.Memory

	mu   sync.Mutex
	maps []mapping
}

type mapping struct{ addr, size uint64 }

// AnonMmap implements sp.Memory.
func (s *space) AnonMmap(ctx context.Context, size uint64) (uint64, error) {
	a, err := s.Memory.AnonMmap(ctx, size)
	s.mu.Lock()
	s.maps = append(s.maps, mapping{a, size})
	s.mu.Unlock()
	return a, err
}

// mappings returns the ANONMMAP requests served so far.
func (s *space) mappings() []mapping {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mapping(nil), s.maps...)
}
