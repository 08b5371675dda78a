package sp

import (
	"crypto/rand"
	"crypto/subtle"
	"sync"

	"github.com/rumpsprig/sprig/abi"
)

// forkTable holds processes made by PREFORK until a FORK handshake claims
// them. Cookies are 128 random bits, compared in constant time, usable
// once, and dropped with their processes when the parent disconnects
// (the C server never frees them).
type forkTable struct {
	mu      sync.Mutex
	pending []*pendingFork
	limit   int
}

type pendingFork struct {
	cookie Cookie
	proc   Process
	abi    *abi.Descriptor // the parent's client ABI, which the child keeps
	tree   uint64          // the parent's connection tree, which the child joins
	owner  *serverConn
}

func (t *forkTable) add(owner *serverConn, p Process, d *abi.Descriptor) (Cookie, error) {
	var ck Cookie
	if _, err := rand.Read(ck[:]); err != nil {
		return ck, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.limit > 0 && len(t.pending) >= t.limit {
		return ck, errTooManyForks
	}
	t.pending = append(t.pending, &pendingFork{cookie: ck, proc: p, abi: d, tree: owner.tree, owner: owner})
	return ck, nil
}

// take removes and returns the process for ck. Every entry is compared,
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
	t.pending = append(t.pending[:found], t.pending[found+1:]...)
	return pf
}

// dropOwner removes every pending fork of a disconnected parent and
// returns their processes for the caller to end.
func (t *forkTable) dropOwner(owner *serverConn) []Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Process
	kept := t.pending[:0]
	for _, pf := range t.pending {
		if pf.owner == owner {
			out = append(out, pf.proc)
			continue
		}
		kept = append(kept, pf)
	}
	clear(t.pending[len(kept):])
	t.pending = kept
	return out
}

func (t *forkTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}
