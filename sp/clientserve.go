package sp

// serve answers one request from the server, on the receiving goroutine,
// as the C client does.
func (c *Client) serve(f *Frame) {
	mem := c.cfg.Memory
	switch f.Type {
	case TypeCopyIn, TypeCopyInStr:
		n, addr, _, err := c.codec.ParseCopydata(f.Body, false)
		if err != nil {
			c.log.Warn("bad copy request", "frame", f.Header.String(), "err", err)
			return
		}
		var data []byte
		switch {
		case mem == nil:
			err = errNoMemory
		case c.xl != nil && f.Type == TypeCopyIn:
			data, err = c.xl.copyIn(mem, addr, int(min(n, uint64(c.fr.MaxFrame))))
		case f.Type == TypeCopyIn:
			data, err = mem.CopyIn(addr, int(min(n, uint64(c.fr.MaxFrame))))
		default:
			data, err = mem.CopyInStr(addr, int(min(n, uint64(c.fr.MaxFrame))))
		}
		if err != nil {
			// The C client hands a bad address to writev, which fails;
			// an empty reply makes the kernel see EFAULT instead.
			c.log.Info("copyin from a bad address", "addr", addr, "len", n, "err", err)
			data = nil
		}
		if uint64(len(data)) > n {
			data = data[:n]
		}
		c.fr.WriteFrame(Header{Reqno: f.Reqno, Class: ClassResp, Type: TypeCopyIn}, data)
	case TypeCopyOut, TypeCopyOutStr:
		_, addr, data, err := c.codec.ParseCopydata(f.Body, true)
		if err != nil {
			c.log.Warn("bad copyout request", "frame", f.Header.String(), "err", err)
			return
		}
		if mem == nil {
			return
		}
		if c.xl != nil {
			err = c.xl.copyOut(mem, addr, data)
		} else {
			err = mem.CopyOut(addr, data)
		}
		if err != nil {
			c.log.Warn("copyout to a bad address; a C client would crash here", "addr", addr, "len", len(data), "err", err)
		}
	case TypeAnonMmap:
		size, err := c.codec.ParseSize(f.Body)
		if err != nil {
			c.log.Warn("bad anonmmap request", "err", err)
			return
		}
		var addr uint64
		if mem != nil {
			addr = mem.AnonMmap(size)
		}
		body, err := c.codec.Pointer(addr)
		if err != nil {
			body, _ = c.codec.Pointer(0) // an address the server cannot hold is a failed map
		}
		c.fr.WriteFrame(Header{Reqno: f.Reqno, Class: ClassResp, Type: TypeAnonMmap}, body)
	case TypeRaise:
		if mem != nil {
			mem.Raise(int32(f.U))
		}
	default:
		// The C client aborts here; sprig logs and carries on.
		c.log.Warn("unknown request from server", "frame", f.Header.String())
	}
}
