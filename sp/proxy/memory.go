package proxy

import (
	"bytes"
	"context"
	"fmt"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// clientMemory is the client's address space as the proxy reaches it:
// every access is a request over the client connection, laid out in the
// client's ABI, exactly as a server of the client's own kind sends it.
type clientMemory struct {
	c     *conn
	codec *sp.Codec
}

var _ sp.Memory = (*clientMemory)(nil)

// downNumber takes a number for a request to the client that expects no
// reply (COPYOUT, RAISE).
func (c *conn) downNumber() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nextDown
	c.nextDown++
	return n
}

// request sends the client a request and waits for its reply.
func (m *clientMemory) request(ctx context.Context, t sp.Type, body []byte) (*sp.Frame, error) {
	c := m.c
	ch := make(chan *sp.Frame, 1)
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: the client is gone", sp.ErrFault)
	}
	reqno := c.nextDown
	c.nextDown++
	c.down[reqno] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.down, reqno)
		c.mu.Unlock()
	}()
	if err := c.sendClient(sp.Header{Reqno: reqno, Class: sp.ClassReq, Type: t}, body); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", sp.ErrFault, t, err)
	}
	select {
	case f, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%w: the client is gone", sp.ErrFault)
		}
		return f, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", sp.ErrFault, ctx.Err())
	}
}

func (m *clientMemory) copyReq(ctx context.Context, t sp.Type, addr uint64, n int) ([]byte, error) {
	if uint64(n) > m.c.p.cfg.MaxFrame-sp.HeaderSize {
		return nil, fmt.Errorf("%w: %s of %d bytes is larger than a frame", sp.ErrFault, t, n)
	}
	body, err := m.codec.Copydata(uint64(n), addr, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", sp.ErrFault, err)
	}
	f, err := m.request(ctx, t, body)
	if err != nil {
		return nil, err
	}
	if f.Class != sp.ClassResp || f.Type != sp.TypeCopyIn || len(f.Body) > n {
		return nil, fmt.Errorf("%w: %s of %d bytes at %#x answered with %s", sp.ErrFault, t, n, addr, f.Header)
	}
	return f.Body, nil
}

// CopyIn implements sp.Memory.
func (m *clientMemory) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	b, err := m.copyReq(ctx, sp.TypeCopyIn, addr, n)
	if err == nil && len(b) != n {
		return nil, fmt.Errorf("%w: COPYIN of %d bytes at %#x: the client sent %d", sp.ErrFault, n, addr, len(b))
	}
	return b, err
}

// CopyInStr implements sp.Memory.
func (m *clientMemory) CopyInStr(ctx context.Context, addr uint64, max int) (string, error) {
	b, err := m.copyReq(ctx, sp.TypeCopyInStr, addr, max)
	if err != nil {
		return "", err
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i]), nil
	}
	if len(b) < max {
		return "", fmt.Errorf("%w: COPYINSTR at %#x: %d bytes and no NUL", sp.ErrFault, addr, len(b))
	}
	return string(b), fmt.Errorf("%w: no NUL within %d bytes at %#x", sp.ErrNameTooLong, max, addr)
}

// CopyOut implements sp.Memory.
func (m *clientMemory) CopyOut(ctx context.Context, addr uint64, data []byte) error {
	body, err := m.codec.Copydata(uint64(len(data)), addr, data)
	if err != nil {
		return fmt.Errorf("%w: %v", sp.ErrFault, err)
	}
	if err := m.c.sendClient(sp.Header{Reqno: m.c.downNumber(), Class: sp.ClassReq, Type: sp.TypeCopyOut}, body); err != nil {
		return fmt.Errorf("%w: COPYOUT of %d bytes at %#x: %v", sp.ErrFault, len(data), addr, err)
	}
	return nil
}

// AnonMmap implements sp.Memory.
func (m *clientMemory) AnonMmap(ctx context.Context, size uint64) (uint64, error) {
	body, err := m.codec.Size(size)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", netbsd.ENOMEM, err)
	}
	f, err := m.request(ctx, sp.TypeAnonMmap, body)
	if err != nil {
		return 0, err
	}
	addr, err := m.codec.ParsePointer(f.Body)
	if err != nil || f.Class != sp.ClassResp || f.Type != sp.TypeAnonMmap {
		return 0, fmt.Errorf("%w: ANONMMAP answered with %s", sp.ErrFault, f.Header)
	}
	if addr == 0 {
		return 0, fmt.Errorf("%w: the client could not map %d bytes", netbsd.ENOMEM, size)
	}
	return addr, nil
}
