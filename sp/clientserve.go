package sp

import (
	"context"
	"errors"
)

// serve answers one request from the server, on the reading goroutine,
// as the C client does.
func (c *Client) serve(f *Frame) {
	mem := c.cfg.Memory
	if c.xs != nil && mem != nil {
		mem = c.xs.View(mem) // addresses and data as the server sees them
	}
	ctx := c.ctx
	switch f.Type {
	case TypeCopyIn, TypeCopyInStr:
		n, addr, _, err := c.codec.ParseCopydata(c.fit(f.Body, c.codec.CopydataSize()), false)
		if err != nil {
			// An empty reply, not silence: the kernel sees EFAULT and the
			// syscall ends instead of waiting for an answer forever.
			c.log.Warn("bad copy request", "frame", f.Header.String(), "err", err)
			c.reply(f, TypeCopyIn, nil)
			return
		}
		limit := c.fr.MaxFrame - HeaderSize
		if f.Type == TypeCopyIn && n > limit {
			// The reply could not be sent whole; an empty one makes the
			// kernel see EFAULT instead of waiting for it forever.
			c.log.Warn("COPYIN larger than this client's frame limit; answering empty", "len", n, "limit", limit)
			c.reply(f, TypeCopyIn, nil)
			return
		}
		max := int(min(n, limit))
		var data []byte
		switch {
		case mem == nil:
			err = errNoMemory
		case f.Type == TypeCopyIn:
			var pooled []byte
			data, pooled, err = c.copyIn(ctx, mem, addr, max)
			defer largeBodies.Put(pooled) // once the answer is written; nil is ignored
		default:
			var s string
			s, err = mem.CopyInStr(ctx, addr, max)
			data = []byte(s)
			switch {
			case err == nil:
				data = append(data, 0)
			case errors.Is(err, ErrNameTooLong):
				err = nil // the C client sends the bytes it has, no NUL
			}
		}
		if err != nil && c.misread(f.Body, c.codec.CopydataSize()) && mem != nil {
			verb := "memcpy from"
			if f.Type == TypeCopyInStr {
				verb = "strlen on"
			}
			c.crashed("%s address %#x: the %d-byte %s request was read as a %d-byte %s rsp_copydata (len %d, addr %#x)",
				verb, addr, len(f.Body), f.Type, c.codec.CopydataSize(), c.wire.Name, n, addr)
			return
		}
		if err != nil {
			// An empty reply makes the kernel see EFAULT.
			c.log.Info("copyin from a bad address", "addr", addr, "len", n, "err", err)
			data = nil
		}
		if uint64(len(data)) > n {
			data = data[:n]
		}
		c.reply(f, TypeCopyIn, data)
	case TypeCopyOut, TypeCopyOutStr:
		var n, addr uint64
		var data []byte
		var err error
		if c.cfg.Faithful {
			// The C client reads len and addr at its own offsets and
			// copies len bytes from what follows its own header size.
			fixed := c.codec.CopydataSize()
			n, addr, _, _ = c.codec.ParseCopydata(c.fit(f.Body[:min(len(f.Body), fixed)], fixed), false)
			data = f.Body[min(len(f.Body), fixed):]
			if n > uint64(len(data)) {
				c.crashed("COPYOUT of %d bytes at %#x from a frame carrying %d (rsp_copydata laid out for %s)", n, addr, len(data), c.wire.Name)
				return
			}
			data = data[:n]
		} else {
			_, addr, data, err = c.codec.ParseCopydata(f.Body, true)
		}
		if err != nil {
			c.log.Warn("bad copyout request", "frame", f.Header.String(), "err", err)
			return
		}
		if mem == nil {
			return
		}
		err = mem.CopyOut(ctx, addr, data)
		if err != nil && c.misread(f.Body, c.codec.CopydataSize()+len(data)) {
			c.crashed("memcpy of %d bytes to address %#x: the %d-byte COPYOUT request was read with a %d-byte %s rsp_copydata",
				len(data), addr, len(f.Body), c.codec.CopydataSize(), c.wire.Name)
			return
		}
		if err != nil {
			c.log.Warn("copyout to a bad address; a C client would crash here", "addr", addr, "len", len(data), "err", err)
		}
	case TypeAnonMmap:
		size, err := c.codec.ParseSize(c.fit(f.Body, c.wire.SizeT.Size))
		var addr uint64 // NULL: the kernel sees ENOMEM
		switch {
		case err != nil:
			c.log.Warn("bad anonmmap request", "err", err)
		case mem != nil:
			if addr, err = mem.AnonMmap(ctx, size); err != nil {
				c.log.Info("anonymous mapping refused", "size", size, "err", err)
				addr = 0
			}
		}
		body, err := c.codec.Pointer(addr)
		if err != nil {
			body, _ = c.codec.Pointer(0) // an address the server cannot hold is a failed map
		}
		c.reply(f, TypeAnonMmap, body)
	case TypeRaise:
		if c.cfg.OnSignal != nil {
			c.cfg.OnSignal(int32(f.U))
		}
	default:
		// The C client aborts here; sprig logs and carries on.
		c.log.Warn("unknown request from server", "frame", f.Header.String())
	}
}

// copyIn reads the n bytes a COPYIN asks for. A Memory that can append
// them to a buffer of the client's (CopyInAppender) gets one the client
// reuses: the client's own for up to maxReusedBody bytes, else a pooled
// one up to largeBodies' size, returned as pooled for the caller to give
// back once the answer is written. Serving runs on the reading
// goroutine, one request at a time, and the answer's write keeps nothing
// of its data (a Trace hook gets a copy of its own).
func (c *Client) copyIn(ctx context.Context, mem Memory, addr uint64, n int) (data, pooled []byte, err error) {
	ap, ok := mem.(CopyInAppender)
	if !ok {
		data, err = mem.CopyIn(ctx, addr, n)
		return data, nil, err
	}
	var buf []byte
	switch {
	case n <= maxReusedBody:
		if cap(c.copyInBuf) < n {
			c.copyInBuf = make([]byte, 0, max(n, 512))
		}
		buf = c.copyInBuf[:0]
	case n <= largeBodies.Size():
		pooled = largeBodies.Get()
		buf = pooled[:0]
	}
	data, err = ap.AppendCopyIn(ctx, buf, addr, n)
	return data, pooled, err
}

// reply answers the server's request f.
func (c *Client) reply(f *Frame, t Type, body []byte) {
	if err := c.fr.writeFrameData(nil, Header{Reqno: f.Reqno, Class: ClassResp, Type: t}, nil, body); err != nil {
		c.log.Info("reply to the server failed", "frame", f.Header.String(), "err", err)
	}
}
