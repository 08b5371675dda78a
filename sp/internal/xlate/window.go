package xlate

import "sort"

// Windows are ranges of the server's (32-bit) address space that stand
// for ranges of the client's (64-bit) one. Each starts at a page boundary
// plus the client address's own offset in its page, so alignment survives
// the mapping.
const (
	pageSize = 4096
	// winBase and winLimit bound the window space: the first 64 KiB stay
	// unused, so that small integers and NULL never look like windows,
	// and so does the top, which a 32-bit kernel treats as its own.
	winBase  = 0x0001_0000
	winLimit = 0xffff_0000
	// maxWindow caps one window: a larger buffer (a read of a huge count)
	// gets this much, and copies beyond it fault.
	maxWindow = 256 << 20
)

// windowSpace allocates windows first-fit; spans are kept sorted by
// start. A session holds a few per syscall in flight, so a linear walk
// is cheap.
type windowSpace struct {
	spans []span // allocated, sorted, page-aligned
}

type span struct{ start, end uint64 }

// alloc reserves n bytes whose first byte has page offset off and
// returns that first byte's address; false when the space is full.
func (w *windowSpace) alloc(n, off uint64) (uint64, bool) {
	need := (off + n + pageSize - 1) &^ (pageSize - 1)
	if need == 0 {
		need = pageSize
	}
	at := uint64(winBase)
	i := 0
	for ; i <= len(w.spans); i++ {
		next := uint64(winLimit)
		if i < len(w.spans) {
			next = w.spans[i].start
		}
		if next >= at && next-at >= need {
			break
		}
		if i < len(w.spans) {
			at = w.spans[i].end
		}
	}
	if i > len(w.spans) {
		return 0, false
	}
	w.spans = append(w.spans, span{})
	copy(w.spans[i+1:], w.spans[i:])
	w.spans[i] = span{at, at + need}
	return at + off, true
}

// free releases the window whose first byte is at addr.
func (w *windowSpace) free(addr uint64) {
	start := addr &^ (pageSize - 1)
	i := sort.Search(len(w.spans), func(i int) bool { return w.spans[i].start >= start })
	if i < len(w.spans) && w.spans[i].start == start {
		w.spans = append(w.spans[:i], w.spans[i+1:]...)
	}
}

func (w *windowSpace) len() int { return len(w.spans) }
