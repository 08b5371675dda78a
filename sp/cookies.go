package sp

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi"
)

var (
	errTooManyForks       = errors.New("too many pending forks")
	errTooManyClientForks = errors.New("too many pending forks for this client")
)

// forkTable holds processes made by PREFORK until a FORK handshake claims
// them. Cookies are 128 random bits, compared in constant time and usable
// once. A pending fork outlives the connection that made it, as in the C
// server (which forks at PREFORK precisely so that a parent may exit
// before its child connects: rumpclient_daemon does), but unlike there it
// does not live for ever: each expires after a while unclaimed, and each
// client may hold only so many, so one client cannot use up the table.
type forkTable struct {
	mu        sync.Mutex
	pending   []*pendingFork
	perOwner  map[uint64]int // pending forks by the ID of the connection that made them
	limit     int
	perClient int
	ttl       time.Duration
	closed    bool
	expiring  sync.WaitGroup // expiries ending their processes
}

type pendingFork struct {
	cookie Cookie
	proc   Process
	abi    *abi.Descriptor // the parent's client ABI, which the child keeps
	decl   *declRef        // holds a declared ABI for the child; nil for a registered one
	tree   uint64          // the parent's connection tree, which the child joins
	owner  uint64          // the ID of the parent's connection
	timer  *time.Timer
}

func newForkTable(limit, perClient int, ttl time.Duration) *forkTable {
	return &forkTable{limit: limit, perClient: perClient, ttl: ttl, perOwner: map[uint64]int{}}
}

// add records child p of the connection owner (tree tree) under a new
// cookie. decl, when not nil, is already held for the fork.
func (t *forkTable) add(owner, tree uint64, p Process, d *abi.Descriptor, decl *declRef) (Cookie, error) {
	var ck Cookie
	if _, err := rand.Read(ck[:]); err != nil {
		return ck, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed:
		return ck, ErrServerClosed
	case len(t.pending) >= t.limit:
		return ck, errTooManyForks
	case t.perOwner[owner] >= t.perClient:
		return ck, errTooManyClientForks
	}
	pf := &pendingFork{cookie: ck, proc: p, abi: d, decl: decl, tree: tree, owner: owner}
	pf.timer = time.AfterFunc(t.ttl, func() { t.expire(pf) })
	t.pending = append(t.pending, pf)
	t.perOwner[owner]++
	return ck, nil
}

// take removes and returns the fork for ck. Every entry is compared,
// whether or not an earlier one matched, so timing says nothing about
// which bytes of a guess were right.
func (t *forkTable) take(ck Cookie) *pendingFork {
	t.mu.Lock()
	defer t.mu.Unlock()
	found := -1
	for i, pf := range t.pending {
		if subtle.ConstantTimeCompare(pf.cookie[:], ck[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil
	}
	pf := t.pending[found]
	t.removeLocked(found)
	return pf
}

func (t *forkTable) removeLocked(i int) {
	pf := t.pending[i]
	pf.timer.Stop()
	t.pending = append(t.pending[:i], t.pending[i+1:]...)
	t.pending = t.pending[:len(t.pending):len(t.pending)]
	if t.perOwner[pf.owner]--; t.perOwner[pf.owner] <= 0 {
		delete(t.perOwner, pf.owner)
	}
}

// expire drops pf if nobody claimed it in time.
func (t *forkTable) expire(pf *pendingFork) {
	t.mu.Lock()
	i := -1
	for j, x := range t.pending {
		if x == pf {
			i = j
		}
	}
	if i < 0 {
		t.mu.Unlock()
		return
	}
	t.removeLocked(i)
	t.expiring.Add(1)
	t.mu.Unlock()
	defer t.expiring.Done()
	pf.drop()
}

// drop ends a pending fork's process and lets go of its ABI.
func (pf *pendingFork) drop() {
	pf.proc.Exit()
	pf.decl.release()
}

// close drops every pending fork and refuses new ones (Shutdown).
func (t *forkTable) close() {
	t.mu.Lock()
	t.closed = true
	all := t.pending
	t.pending = nil
	for _, pf := range all {
		pf.timer.Stop()
	}
	clear(t.perOwner)
	t.mu.Unlock()
	for _, pf := range all {
		pf.drop()
	}
	t.expiring.Wait()
}

func (t *forkTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

func (t *forkTable) ownedBy(owner uint64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.perOwner[owner]
}
