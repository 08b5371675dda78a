package sp

import (
	"bytes"
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
		js, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		b = append(b, declPrefix...)
		b = append(b, js...)
	}
	return b, nil
}

// parseGuestBody splits a GUEST body into the program name and the raw
// declaration (nil when there is none). A body without a NUL is all name,
// which is how a 0.4 server must treat an empty 0.1 body without reading
// past it.
func parseGuestBody(body []byte) (name string, decl []byte) {
	nul := bytes.IndexByte(body, 0)
	if nul < 0 {
		return string(body), nil
	}
	name = string(body[:nul])
	if rest, ok := bytes.CutPrefix(body[nul+1:], []byte(declPrefix)); ok {
		decl = rest
	}
	return name, decl
}

// declCache interns declared descriptors: a declaration equal to a
// registered ABI becomes that descriptor (sharing its cached layouts),
// and distinct user ABIs are kept once each, up to a bound, so clients
// cannot grow the server's memory without limit.
type declCache struct {
	mu   sync.Mutex
	seen map[string]*abi.Descriptor
}

const maxDeclaredABIs = 64

func (c *declCache) resolve(raw []byte) (*abi.Descriptor, error) {
	d, err := abi.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("sp: ABI declaration: %w", err)
	}
	for _, known := range abi.All() {
		if reflect.DeepEqual(known, d) {
			return known, nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := string(raw)
	if old, ok := c.seen[key]; ok {
		return old, nil
	}
	if len(c.seen) >= maxDeclaredABIs {
		return nil, fmt.Errorf("sp: ABI declaration: more than %d distinct user ABIs", maxDeclaredABIs)
	}
	if c.seen == nil {
		c.seen = map[string]*abi.Descriptor{}
	}
	c.seen[key] = d
	return d, nil
}
