package proxy

import (
	"errors"

	"github.com/rumpsprig/sprig/sp"
)

// fromUpstream handles one frame from the server; false ends the
// connection.
func (c *conn) fromUpstream(f *sp.Frame) bool {
	switch f.Class {
	case sp.ClassResp, sp.ClassError:
		return c.answer(f)
	case sp.ClassReq:
		e := c.ends.Load()
		if e == nil {
			c.log.Warn("upstream sent a request before the handshake", "frame", f.Header.String())
			return false
		}
		switch f.Type {
		case sp.TypeCopyIn, sp.TypeCopyInStr:
			c.copyIn(e, f)
		case sp.TypeCopyOut, sp.TypeCopyOutStr:
			c.copyOut(e, f)
		case sp.TypeAnonMmap:
			c.anonMmap(e, f)
		case sp.TypeRaise:
			// Signal numbers are the same on every NetBSD ABI.
			c.sendClient(sp.Header{Reqno: c.downNumber(), Class: sp.ClassReq, Type: sp.TypeRaise, U: f.U})
		default:
			// A C client would abort: it never sees one.
			c.log.Warn("unknown request from upstream; dropped", "frame", f.Header.String())
		}
		return true
	}
	c.log.Warn("frame of unknown class from upstream; dropped", "frame", f.Header.String())
	return true
}

// answer relays the server's answer to a forwarded request.
func (c *conn) answer(f *sp.Frame) bool {
	pd := c.takeUp(f.Reqno)
	if pd == nil {
		c.log.Info("upstream answered no outstanding request", "frame", f.Header.String())
		return true
	}
	c.release()
	e := c.ends.Load()
	h := sp.Header{Reqno: pd.reqno, Class: f.Class, Type: f.Type}
	if f.Class == sp.ClassError {
		if pd.call != nil {
			pd.call.Abort()
		}
		h.U = convertError(c.uver, c.cver, f.U)
		if h.U != f.U {
			c.note("ERROR %d (%s era) is %d in the client's %s era", f.U, c.uver, h.U, c.cver)
		}
		c.sendClient(h)
		return true
	}
	switch pd.h.Type {
	case sp.TypeSyscall:
		if pd.call == nil && e.sess.Pair().Same() {
			return c.sendClient(h, f.Body) == nil
		}
		r, err := c.ucodec.ParseSysresp(f.Body)
		if err != nil {
			c.log.Warn("upstream sent a malformed syscall reply; dropping the client", "err", err)
			return false
		}
		if pd.call != nil {
			if why := pd.call.Spoiled(); why != "" {
				c.log.Warn("typed data could not be translated; answering ENOSYS", "syscall", pd.call.Num.String(), "why", why)
			}
			r.Errno, r.Retval = pd.call.End(r.Errno, r.Retval)
		}
		return c.sendClient(h, e.ccodec.Sysresp(r)) == nil
	case sp.TypeHandshake:
		v, err := c.ucodec.ParseInt(f.Body)
		if err != nil {
			c.log.Warn("upstream sent a malformed handshake reply; dropping the client", "err", err)
			return false
		}
		if pd.first && v == 0 {
			c.handshaken.Store(true)
		}
		return c.sendClient(h, e.ccodec.Int(v)) == nil
	case sp.TypePrefork:
		if len(f.Body) != sp.CookieSize {
			c.log.Warn("upstream sent a malformed prefork reply; dropping the client", "len", len(f.Body))
			return false
		}
		var ck sp.Cookie
		copy(ck[:], f.Body)
		c.p.forks.add(c, ck, e.cabi)
		return c.sendClient(h, f.Body) == nil
	}
	c.log.Warn("upstream answered with an unexpected type", "frame", f.Header.String())
	return true
}

// copyIn serves the server's COPYIN or COPYINSTR from the client, on a
// goroutine of its own: the client's reply comes through the client's
// reading goroutine, and the server waits.
func (c *conn) copyIn(e *ends, f *sp.Frame) {
	reply := func(data []byte) {
		// An empty reply is how a client reports a bad address.
		if err := c.ufr.WriteFrame(sp.Header{Reqno: f.Reqno, Class: sp.ClassResp, Type: sp.TypeCopyIn}, data); err != nil && c.ctx.Err() == nil {
			c.log.Info("write upstream failed", "err", err)
		}
	}
	n, addr, _, err := c.ucodec.ParseCopydata(f.Body, false)
	if err != nil || n > c.p.cfg.MaxFrame-sp.HeaderSize {
		c.log.Warn("bad copy request from upstream; answering empty", "frame", f.Header.String(), "len", n, "err", err)
		reply(nil)
		return
	}
	ok := c.helper(func() {
		var data []byte
		var err error
		if f.Type == sp.TypeCopyIn {
			data, err = e.view.CopyIn(c.ctx, addr, int(n))
		} else {
			var s string
			s, err = e.view.CopyInStr(c.ctx, addr, int(n))
			switch {
			case err == nil:
				data = append([]byte(s), 0)
			case errors.Is(err, sp.ErrNameTooLong):
				data, err = []byte(s), nil // the bytes there are, no NUL, as a C client sends
			}
		}
		if err != nil {
			c.log.Debug("copy from the client failed; answering empty", "addr", addr, "len", n, "err", err)
			data = nil
		}
		reply(data[:min(uint64(len(data)), n)])
	})
	if !ok {
		reply(nil)
	}
}

// copyOut stores the server's data in the client. It runs on the
// upstream's reading goroutine, so the data reaches the client before
// the syscall's reply does.
func (c *conn) copyOut(e *ends, f *sp.Frame) {
	_, addr, data, err := c.ucodec.ParseCopydata(f.Body, true)
	if err != nil {
		c.log.Warn("bad copyout request from upstream; dropped", "frame", f.Header.String(), "err", err)
		return
	}
	if err := e.view.CopyOut(c.ctx, addr, data); err != nil {
		c.log.Info("copyout to the client failed", "addr", addr, "len", len(data), "err", err)
	}
}

// anonMmap maps memory in the client for the server.
func (c *conn) anonMmap(e *ends, f *sp.Frame) {
	reply := func(addr uint64) {
		body, err := c.ucodec.Pointer(addr)
		if err != nil {
			body, _ = c.ucodec.Pointer(0)
		}
		if err := c.ufr.WriteFrame(sp.Header{Reqno: f.Reqno, Class: sp.ClassResp, Type: sp.TypeAnonMmap}, body); err != nil && c.ctx.Err() == nil {
			c.log.Info("write upstream failed", "err", err)
		}
	}
	size, err := c.ucodec.ParseSize(f.Body)
	if err != nil {
		c.log.Warn("bad anonmmap request from upstream; answering NULL", "err", err)
		reply(0)
		return
	}
	if !c.helper(func() {
		addr, err := e.view.AnonMmap(c.ctx, size)
		if err != nil {
			c.log.Info("anonymous mapping refused", "size", size, "err", err)
			addr = 0
		}
		reply(addr)
	}) {
		reply(0)
	}
}
