package proxy

import (
	"bytes"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/internal/xlate"
)

// fromClient handles one frame from the client; false ends the
// connection.
func (c *conn) fromClient(f *sp.Frame) bool {
	if !c.running.Load() {
		return c.firstHandshake(f)
	}
	switch f.Class {
	case sp.ClassReq:
		switch f.Type {
		case sp.TypeSyscall:
			c.syscall(f)
			return true
		case sp.TypePrefork:
			c.forward(f, nil)
			return true
		case sp.TypeHandshake:
			if sp.HandshakeKind(f.U) == sp.HandshakeExec {
				if !c.uver.HasExec() {
					// A 0.1 server would not answer at all.
					c.note("EXEC handshake refused: the upstream speaks %s", c.uver)
					c.clientError(f.Reqno, sp.ErrorMalformed)
					return true
				}
				c.forward(f, f.Body)
				return true
			}
			// A second GUEST or FORK on a running connection.
			c.clientError(f.Reqno, sp.ErrorMalformed)
			return false
		}
		c.clientError(f.Reqno, sp.ErrorMalformed)
		return true
	case sp.ClassResp:
		c.deliverDown(f)
		return true
	case sp.ClassError:
		c.log.Info("client sent an error frame", "code", f.U, "reqno", f.Reqno)
		return true
	}
	if c.cver.HasEnumErrors() {
		c.clientError(f.Reqno, sp.ErrorMalformed)
	} else {
		c.clientRawError(f.Reqno, uint32(netbsd.ENOENT)) // as the 0.1 server answers an unknown class
	}
	return true
}

// forward sends a request upstream with body (nil: none), to be answered
// in kind.
func (c *conn) forward(f *sp.Frame, body []byte) {
	if !c.reserve() {
		c.clientError(f.Reqno, sp.ErrorTryAgain)
		return
	}
	if c.sendUp(sp.Header{Class: sp.ClassReq, Type: f.Type, U: f.U}, body, &pending{reqno: f.Reqno}) != nil {
		c.release()
	}
}

// firstHandshake settles the client's ABI from the GUEST declaration or
// the forking parent's, and forwards the handshake in the upstream's
// terms.
func (c *conn) firstHandshake(f *sp.Frame) bool {
	if f.Class != sp.ClassReq || f.Type != sp.TypeHandshake {
		c.clientError(f.Reqno, sp.ErrorAuth)
		return false
	}
	order := c.cfr.ByteOrder()
	sniffed := order != c.p.cfg.ClientABI.ByteOrder()
	cabi := c.p.cfg.ClientABI
	var body []byte
	switch kind := sp.HandshakeKind(f.U); kind {
	case sp.HandshakeGuest:
		name, decl := splitGuestBody(f.Body)
		if decl != nil {
			d, err := c.p.decls.resolve(decl)
			if err != nil {
				c.log.Warn("bad ABI declaration", "err", err)
				c.clientError(f.Reqno, sp.ErrorMalformed)
				return false
			}
			if d.ByteOrder() != order {
				c.log.Warn("declared ABI's byte order differs from the frame's", "abi", d.Name)
				c.clientError(f.Reqno, sp.ErrorMalformed)
				return false
			}
			cabi = d
			c.log.Info("client declared its ABI", "abi", d.Name)
			c.note("GUEST declares ABI %s: declaration stripped before upstream", d.Name)
		} else if sniffed {
			c.log.Warn("client speaks the other byte order and declares no ABI; dropping it like a C server would")
			return false
		}
		if c.uver.HasGuestName() {
			body = append([]byte(name), 0)
		}
	case sp.HandshakeFork:
		if len(f.Body) != sp.CookieSize+4 {
			c.log.Warn("malformed FORK handshake", "len", len(f.Body))
			c.clientError(f.Reqno, sp.ErrorMalformed)
			return false
		}
		var ck sp.Cookie
		copy(ck[:], f.Body)
		cancel := order.Uint32(f.Body[sp.CookieSize:]) != 0
		if d := c.p.forks.take(ck); d != nil {
			cabi = d // the child is of its parent's ABI
		}
		if cabi.ByteOrder() != order {
			c.log.Warn("forked client speaks another byte order than its parent", "parent abi", cabi.Name)
			return false
		}
		body = c.ucodec.HandshakeFork(ck, cancel)
	default:
		// AUTH was never implemented; EXEC needs a process.
		c.clientError(f.Reqno, sp.ErrorAuth)
		return false
	}
	c.setEnds(cabi)
	c.running.Store(true)
	if !c.reserve() {
		return false
	}
	if c.sendUp(sp.Header{Class: sp.ClassReq, Type: sp.TypeHandshake, U: f.U}, body, &pending{reqno: f.Reqno, first: true}) != nil {
		return false
	}
	return true
}

// declPrefix starts sprig's ABI declaration after the NUL of a GUEST
// body's program name (see package sp's documentation).
const declPrefix = "sprig-abi:"

// splitGuestBody splits a GUEST body into the program name and the raw
// declaration (nil when there is none).
func splitGuestBody(body []byte) (name string, decl []byte) {
	nul := bytes.IndexByte(body, 0)
	if nul < 0 {
		return string(body), nil
	}
	if rest, ok := bytes.CutPrefix(body[nul+1:], []byte(declPrefix)); ok {
		decl = rest
	}
	return string(body[:nul]), decl
}

func (c *conn) setEnds(cabi *abi.Descriptor) {
	e := &ends{cabi: cabi, ccodec: sp.NewCodec(cabi)}
	e.ccodec.PadFill = c.p.cfg.PadFill
	xc := xlate.DefaultConfig()
	if c.p.cfg.Trace != nil {
		xc.Note = func(m string) { c.trace(Event{Note: m}) }
	}
	e.sess = xlate.NewSession(c.p.pair(cabi, c.sabi), xc)
	e.mem = &clientMemory{c: c, codec: e.ccodec}
	e.view = e.sess.View(e.mem)
	c.cfr.SetByteOrder(cabi.ByteOrder())
	c.ends.Store(e)
	if !e.sess.Pair().Same() {
		c.note("client ABI %s, server ABI %s: translating (windows for pointers: %v)", cabi.Name, c.sabi.Name, e.sess.Pair().Narrow())
	}
}

// syscall translates a SYSCALL request and sends it upstream, or answers
// it at once when it cannot be translated.
func (c *conn) syscall(f *sp.Frame) {
	e := c.ends.Load()
	num := netbsd.Sysno(f.U)
	if !c.reserve() {
		c.clientError(f.Reqno, sp.ErrorTryAgain)
		return
	}
	h := sp.Header{Class: sp.ClassReq, Type: sp.TypeSyscall, U: f.U}
	pair := e.sess.Pair()
	ca := netbsd.LayoutsFor(e.cabi).Args(num)
	if pair.Same() || (ca == nil && len(f.Body) == 0) {
		// Nothing to translate: the bytes mean the same upstream.
		if c.sendUp(h, f.Body, &pending{reqno: f.Reqno}) != nil {
			c.release()
		}
		return
	}
	if ca == nil {
		c.refuse(e, f.Reqno, &xlate.Refusal{Num: num, Errno: netbsd.ENOSYS, Why: "sprig does not describe this syscall, and it has arguments"})
		return
	}
	vals, missing := ca.Decode(f.Body)
	if missing > 0 {
		c.log.Debug("short argument struct; missing bytes read as zero", "syscall", num.String(), "missing", missing)
	}
	run := func() {
		call, wargs, err := e.sess.Begin(c.ctx, e.mem, num, vals)
		if err != nil {
			rf := xlate.IsRefusal(err)
			if rf == nil {
				rf = &xlate.Refusal{Num: num, Errno: netbsd.EIO, Why: err.Error()}
			}
			c.refuse(e, f.Reqno, rf)
			return
		}
		body, err := netbsd.LayoutsFor(c.sabi).Args(num).Encode(0, wargs...)
		if err != nil {
			call.Abort()
			c.refuse(e, f.Reqno, &xlate.Refusal{Num: num, Errno: netbsd.EINVAL, Why: err.Error()})
			return
		}
		c.note("%s: %d-byte %s argument struct → %d-byte %s", num, len(f.Body), e.cabi.Name, len(body), c.sabi.Name)
		if c.sendUp(h, body, &pending{reqno: f.Reqno, call: call}) != nil {
			call.Abort()
			c.release()
		}
	}
	// Begin may read the client's memory (a sysctl MIB), whose replies
	// come through this goroutine: then it runs on its own.
	switch {
	case !pair.ReadsMemory(num):
		run()
	case !c.helper(run):
		c.refuse(e, f.Reqno, &xlate.Refusal{Num: num, Errno: netbsd.EAGAIN, Why: "too many requests of the server in flight"})
	}
}

// refuse answers a syscall the proxy will not forward.
func (c *conn) refuse(e *ends, reqno uint64, r *xlate.Refusal) {
	c.release()
	c.log.Info("syscall refused", "why", r.Error())
	c.note("refused: %v", r)
	c.sendClient(sp.Header{Reqno: reqno, Class: sp.ClassResp, Type: sp.TypeSyscall}, e.ccodec.Sysresp(sp.Result{Errno: r.Errno}))
}

// clientError answers reqno with an ERROR frame in the client's era.
func (c *conn) clientError(reqno uint64, code sp.ErrorCode) {
	c.clientRawError(reqno, errorFor(c.clientEra(), code))
}

func (c *conn) clientRawError(reqno uint64, u uint32) {
	// ERROR frames carry type 0 (HANDSHAKE), as the C server's do.
	c.sendClient(sp.Header{Reqno: reqno, Class: sp.ClassError, Type: sp.TypeHandshake, U: u})
}

func (c *conn) clientEra() sp.Version {
	if c.cver == (sp.Version{}) {
		return sp.Version04
	}
	return c.cver
}

// deliverDown hands a client's response to the proxy's request.
func (c *conn) deliverDown(f *sp.Frame) {
	c.mu.Lock()
	ch, ok := c.down[f.Reqno]
	delete(c.down, f.Reqno)
	c.mu.Unlock()
	if !ok {
		c.log.Info("response to no outstanding request", "frame", f.Header.String())
		return
	}
	ch <- f
}

// pair returns the Pair of two ABIs, made once: pairs cache their plans.
func (p *Proxy) pair(client, server *abi.Descriptor) *xlate.Pair {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pairs == nil {
		p.pairs = map[[2]*abi.Descriptor]*xlate.Pair{}
	}
	k := [2]*abi.Descriptor{client, server}
	if x, ok := p.pairs[k]; ok {
		return x
	}
	x := xlate.NewPair(client, server)
	p.pairs[k] = x
	return x
}
