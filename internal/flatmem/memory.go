// Package flatmem is a client address space over one byte slice mapped at
// a base address: the memory sprig's guests serve the server's requests
// from, and (as sptest.Memory) the memory of test clients. It is not a
// model of a real process's address space: it has no pages, no
// protection and no unmapping.
package flatmem

import (
	"context"
	"fmt"
	"sync"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

const (
	flatAlign = 16 // alignment of every allocation
	flatHead  = 64 // bytes left unallocated at the base address
)

// Memory is an sp.Memory over one byte slice mapped at a base address,
// with a bump allocator for Alloc and ANONMMAP, recording raised signals
// (Raise, for sp.ClientConfig.OnSignal). Addresses outside the slice
// fault with sp.ErrFault. It is safe for concurrent use: a Client's
// reader goroutine serves the server's requests from it while the
// caller's goroutines allocate.
type Memory struct {
	mu      sync.Mutex
	buf     []byte
	base    uint64 // address of buf[0]
	next    int    // offset of the first free byte
	signals []int32
}

var (
	_ sp.Memory         = (*Memory)(nil)
	_ sp.CopyInAppender = (*Memory)(nil)
)

// New returns buf as an address space starting at base. Its allocations
// overwrite buf, which the caller must not use meanwhile.
func New(buf []byte, base uint64) *Memory {
	return &Memory{buf: buf, base: base, next: flatHead}
}

// Base returns the address of the memory's first byte.
func (m *Memory) Base() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.base
}

// SetBase moves the memory to base. Allocations keep their bytes and
// their offsets, so addresses handed out before point elsewhere after.
func (m *Memory) SetBase(base uint64) {
	m.mu.Lock()
	m.base = base
	m.mu.Unlock()
}

// take reserves n zeroed bytes at the next aligned offset; m.mu is held.
func (m *Memory) take(n int) (int, bool) {
	off := (m.next + flatAlign - 1) &^ (flatAlign - 1)
	if n < 0 || off > len(m.buf) || n > len(m.buf)-off {
		return 0, false
	}
	m.next = off + n
	clear(m.buf[off : off+n])
	return off, true
}

// AllocBytes reserves n bytes (16-aligned, zeroed) and returns their
// address and the bytes themselves, which the caller may fill before
// handing the address to a server. It panics when n bytes do not fit.
func (m *Memory) AllocBytes(n int) (uint64, []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, ok := m.take(n)
	if !ok {
		panic(fmt.Sprintf("flatmem: memory exhausted (%d bytes asked, %d in all)", n, len(m.buf)))
	}
	return m.base + uint64(off), m.buf[off : off+n : off+n]
}

// Alloc reserves n bytes (16-aligned), filled with init and zeroes after
// it, and returns their address. It panics when n bytes do not fit.
func (m *Memory) Alloc(n int, init []byte) uint64 {
	addr, b := m.AllocBytes(n)
	copy(b, init)
	return addr
}

// AllocString stores s with its NUL, as a C string, and returns its
// address.
func (m *Memory) AllocString(s string) uint64 { return m.Alloc(len(s)+1, []byte(s)) }

// Reset frees every allocation; signals stay recorded.
func (m *Memory) Reset() {
	m.mu.Lock()
	m.next = flatHead
	m.mu.Unlock()
}

// BadAddress returns an address no allocation will ever cover: 1 MiB
// past the end of the memory.
func (m *Memory) BadAddress() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.base + uint64(len(m.buf)) + 1<<20
}

// Read returns a copy of n bytes at addr and panics if they are not all
// inside the memory.
func (m *Memory) Read(addr uint64, n int) []byte {
	b, err := m.CopyIn(context.Background(), addr, n)
	if err != nil {
		panic(err)
	}
	return b
}

// span returns the offset of n bytes at addr; m.mu is held.
func (m *Memory) span(addr uint64, n int) (int, error) {
	off := addr - m.base
	if addr < m.base || n < 0 || off > uint64(len(m.buf)) || uint64(n) > uint64(len(m.buf))-off {
		return 0, fmt.Errorf("%w: %d bytes at %#x", sp.ErrFault, n, addr)
	}
	return int(off), nil
}

// CopyIn implements sp.Memory.
func (m *Memory) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	return m.AppendCopyIn(ctx, nil, addr, n)
}

// AppendCopyIn implements sp.CopyInAppender.
func (m *Memory) AppendCopyIn(_ context.Context, dst []byte, addr uint64, n int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, n)
	if err != nil {
		return dst, err
	}
	return append(dst, m.buf[off:off+n]...), nil
}

// CopyInStr implements sp.Memory: the string up to the first NUL within
// max bytes; without a NUL among them, all there are up to max or the end
// of the memory, with sp.ErrNameTooLong when max bytes were there. Only
// addr itself must be inside.
func (m *Memory) CopyInStr(_ context.Context, addr uint64, max int) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, 1)
	if err != nil {
		return "", err
	}
	if max < 0 {
		max = 0
	}
	end := off + min(max, len(m.buf)-off)
	for i := off; i < end; i++ {
		if m.buf[i] == 0 {
			return string(m.buf[off:i]), nil
		}
	}
	if end-off < max {
		return string(m.buf[off:end]), fmt.Errorf("%w: no NUL before the end of memory at %#x", sp.ErrFault, m.base+uint64(end))
	}
	return string(m.buf[off:end]), fmt.Errorf("%w: no NUL in %d bytes at %#x", sp.ErrNameTooLong, max, addr)
}

// CopyOut implements sp.Memory.
func (m *Memory) CopyOut(_ context.Context, addr uint64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, len(data))
	if err != nil {
		return err
	}
	copy(m.buf[off:], data)
	return nil
}

// AnonMmap implements sp.Memory from the bump allocator: size zeroed
// bytes, or ENOMEM when size is 0 or does not fit.
func (m *Memory) AnonMmap(_ context.Context, size uint64) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size == 0 || size > uint64(len(m.buf)) {
		return 0, fmt.Errorf("%w: cannot map %d bytes", netbsd.ENOMEM, size)
	}
	off, ok := m.take(int(size))
	if !ok {
		return 0, fmt.Errorf("%w: %d bytes do not fit", netbsd.ENOMEM, size)
	}
	return m.base + uint64(off), nil
}

// Raise records a signal: pass it as sp.ClientConfig.OnSignal.
func (m *Memory) Raise(sig int32) {
	m.mu.Lock()
	m.signals = append(m.signals, sig)
	m.mu.Unlock()
}

// Signals returns the signals raised so far.
func (m *Memory) Signals() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int32(nil), m.signals...)
}

// TakeSignals returns the signals raised since the last TakeSignals and
// forgets them.
func (m *Memory) TakeSignals() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.signals
	m.signals = nil
	return s
}
