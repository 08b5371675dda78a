package sp

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"github.com/rumpsprig/sprig/abi"
)

// declPrefix starts sprig's ABI declaration, which follows the NUL that
// ends the program name in a GUEST handshake body:
//
//	"myprog\x00sprig-abi:{...descriptor JSON...}"
//
// A 0.4 C server reads the name up to the NUL and never looks further; a
// 0.1 C server ignores the body altogether. A sprig server that honours
// declarations lays the client's frames out with the declared ABI
// (server-translates mode).
const declPrefix = "sprig-abi:"

// guestBody builds a GUEST handshake body: the program name and its NUL
// (0.4), or nothing (0.1), then the declaration when d is not nil.
func guestBody(v Version, name string, d *abi.Descriptor) ([]byte, error) {
	var b []byte
	if v.HasGuestName() || d != nil {
		b = append([]byte(name), 0)
	}
	if d != nil {
		js, err := declarationJSON(d)
		if err != nil {
			return nil, err
		}
		b = append(b, declPrefix...)
		b = append(b, js...)
	}
	return b, nil
}

// lastDeclaration keeps the JSON of the descriptor declared last: a
// client declares the same ABI on every connection, and encoding it by
// reflection each time was most of a wasm guest's handshake.
var lastDeclaration struct {
	sync.Mutex
	d  *abi.Descriptor // a copy of what js encodes
	js []byte
}

func declarationJSON(d *abi.Descriptor) ([]byte, error) {
	c := &lastDeclaration
	c.Lock()
	defer c.Unlock()
	if c.d != nil && c.d.Equal(d) {
		return c.js, nil
	}
	js, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	c.d, c.js = d.Clone(), js
	return js, nil
}

// Bounds on what a server keeps of a GUEST or EXEC body; the rest is
// discarded as it is read.
const (
	// MaxComLen is NetBSD's MAXCOMLEN: the bytes of a program name a
	// process keeps (p_comm). Longer names are cut, as NetBSD cuts them.
	MaxComLen = 16
	// MaxDeclaration bounds an ABI declaration after the name's NUL
	// (prefix included); a descriptor's JSON is about 600 bytes. A longer
	// one is refused as malformed.
	MaxDeclaration = 8 << 10
)

// guestBodyParts is a GUEST or EXEC body as a server keeps it.
type guestBodyParts struct {
	name    string // at most MaxComLen bytes
	nameCut uint64 // name bytes discarded
	decl    []byte // the declaration after "sprig-abi:", nil when none
	declCut uint64 // declaration bytes discarded (the declaration is then refused)
}

// guestBodyReader splits a GUEST body into name and declaration while it
// is read, keeping at most MaxComLen bytes of name and MaxDeclaration of
// what follows the NUL. A body without a NUL is all name, which is how a
// 0.4 server must treat an empty 0.1 body without reading past it.
type guestBodyReader struct {
	parts   guestBodyParts
	name    []byte
	rest    []byte
	restCut uint64
	seenNUL bool
}

func (g *guestBodyReader) Write(p []byte) (int, error) {
	n := len(p)
	if !g.seenNUL {
		nul := bytes.IndexByte(p, 0)
		head := p
		if nul >= 0 {
			head = p[:nul]
		}
		keep := min(len(head), MaxComLen-len(g.name))
		g.name = append(g.name, head[:keep]...)
		g.parts.nameCut += uint64(len(head) - keep)
		if nul < 0 {
			return n, nil
		}
		g.seenNUL = true
		p = p[nul+1:]
	}
	keep := min(len(p), MaxDeclaration-len(g.rest))
	g.rest = append(g.rest, p[:keep]...)
	g.restCut += uint64(len(p) - keep)
	return n, nil
}

func (g *guestBodyReader) done() guestBodyParts {
	g.parts.name = string(g.name)
	if rest, ok := bytes.CutPrefix(g.rest, []byte(declPrefix)); ok {
		g.parts.decl = rest
		g.parts.declCut = g.restCut
	}
	return g.parts
}

// parseGuestBody splits a whole GUEST body the way guestBodyReader does.
func parseGuestBody(body []byte) guestBodyParts {
	var g guestBodyReader
	g.Write(body)
	return g.done()
}

// declCache interns declared descriptors. A declaration equal to a
// registered ABI becomes that descriptor (sharing its cached layouts).
// Other declarations are keyed by their content (the descriptor parsed
// and marshalled again, so spacing does not matter) and reference
// counted: the connections and pending forks using one hold it, and it
// is forgotten when the last lets go. At most limit distinct ones are
// in use at once; each client holds at most one.
type declCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]*declEntry
	limit   int
}

type declEntry struct {
	key  [sha256.Size]byte
	d    *abi.Descriptor
	refs int
}

// declRef is one hold on a declared ABI; nil holds a registered one,
// which needs no holding. release may be called on nil.
type declRef struct {
	c *declCache
	e *declEntry
}

func newDeclCache(limit int) *declCache {
	return &declCache{entries: map[[sha256.Size]byte]*declEntry{}, limit: limit}
}

func (c *declCache) resolve(raw []byte) (*abi.Descriptor, *declRef, error) {
	d, err := abi.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("sp: ABI declaration: %w", err)
	}
	for _, known := range abi.All() {
		if reflect.DeepEqual(known, d) {
			return known, nil, nil
		}
	}
	canon, err := json.Marshal(d)
	if err != nil {
		return nil, nil, fmt.Errorf("sp: ABI declaration: %w", err)
	}
	key := sha256.Sum256(canon)
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil {
		if len(c.entries) >= c.limit {
			return nil, nil, fmt.Errorf("sp: ABI declaration: %d distinct user ABIs in use already", c.limit)
		}
		e = &declEntry{key: key, d: d}
		c.entries[key] = e
	}
	e.refs++
	return e.d, &declRef{c: c, e: e}, nil
}

// share takes another hold on the same ABI (for a pending fork).
func (r *declRef) share() *declRef {
	if r == nil {
		return nil
	}
	r.c.mu.Lock()
	r.e.refs++
	r.c.mu.Unlock()
	return &declRef{c: r.c, e: r.e}
}

func (r *declRef) release() {
	if r == nil {
		return
	}
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if r.e == nil {
		return
	}
	if r.e.refs--; r.e.refs == 0 {
		delete(r.c.entries, r.e.key)
	}
	r.e = nil
}

func (c *declCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
