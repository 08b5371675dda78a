package xlate

import (
	"slices"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// End finishes the call with the server's answer and returns the answer
// in the client's conventions: an off_t split or joined anew, an int
// sign-extended or checked to fit, an mmap address mapped back. A call
// whose typed data could not be translated answers ENOSYS. The call's
// regions and windows are freed.
func (c *Call) End(errno netbsd.Errno, rv [2]uint64) (netbsd.Errno, [2]uint64) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(c)
	if c.spoiled != "" {
		return netbsd.ENOSYS, [2]uint64{}
	}
	if s.p.same || c.sc == nil {
		return errno, rv
	}
	if c.Num == netbsd.SYS_munmap && errno == 0 {
		s.unmapLocked(c.unmap[0], c.unmap[1])
	}
	out, ok := s.retvalLocked(c.sc.Ret, rv)
	if !ok && errno == 0 {
		s.note("%s: result %#x does not fit %s's register_t", c.Num, rv, s.p.Client.Name)
		return netbsd.EOVERFLOW, [2]uint64{}
	}
	return errno, out
}

// Abort forgets the call without an answer (the connection died, or the
// server answered with an ERROR frame).
func (c *Call) Abort() {
	c.s.mu.Lock()
	c.s.releaseLocked(c)
	c.s.mu.Unlock()
}

// Spoiled says why the call's typed data could not be translated, or "".
func (c *Call) Spoiled() string {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.spoiled
}

func (s *Session) releaseLocked(c *Call) {
	if len(c.regs) == 0 {
		return
	}
	s.regions = slices.DeleteFunc(s.regions, func(r *region) bool { return r.call == c })
	for _, r := range c.regs {
		if r.window {
			s.win.free(r.wire)
		}
	}
	c.regs = nil
}

func (s *Session) unmapLocked(addr, n uint64) {
	s.regions = slices.DeleteFunc(s.regions, func(r *region) bool {
		if r.call != nil || r.client < addr || r.client-addr+r.cext > n {
			return false
		}
		if r.window {
			s.win.free(r.wire)
		}
		s.mappings--
		return true
	})
}

func (s *Session) retvalLocked(ret netbsd.Ret, rv [2]uint64) ([2]uint64, bool) {
	cd, sd := s.p.Client, s.p.Server
	switch ret {
	case netbsd.RetOff:
		return SplitOff(cd, JoinOff(sd, rv)), true
	case netbsd.RetPointer:
		v := rv[0]
		if s.p.narrow {
			for _, r := range s.regions {
				if r.call == nil && v >= r.wire && v-r.wire < r.wext {
					v = r.client + (v - r.wire)
					break
				}
			}
		}
		// Otherwise it is an address the client itself gave (ANONMMAP's
		// reply), whatever its width.
		return [2]uint64{v, 0}, true
	}
	var out [2]uint64
	ok := true
	for i, w := range rv {
		if sd.RegisterT.Size < 8 && sd.RegisterTSigned {
			w = uint64(abi.SignExtend(w, sd.RegisterT.Size))
		}
		if (i == 0 || ret == netbsd.RetTwo) && !fits(w, cd.RegisterT.Size, true) {
			ok = false
		}
		if cd.RegisterT.Size < 8 {
			w &= 1<<(8*cd.RegisterT.Size) - 1
		}
		out[i] = w
	}
	return out, ok
}
