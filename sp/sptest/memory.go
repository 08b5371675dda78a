package sptest

import (
	"errors"
	"fmt"
	"sync"
)

// Memory is a flat client address space: Size bytes starting at Base.
// Addresses outside it fault. It also records signals raised and keeps a
// bump allocator for Alloc and AnonMmap.
type Memory struct {
	Base uint64

	mu      sync.Mutex
	buf     []byte
	next    int
	signals []int32
}

// ErrFault is returned for an access outside the address space.
var ErrFault = errors.New("sptest: bad address")

// NewMemory returns size bytes of zeroed memory at base.
func NewMemory(base uint64, size int) *Memory {
	return &Memory{Base: base, buf: make([]byte, size), next: 16}
}

func (m *Memory) span(addr uint64, n int) (int, error) {
	if addr < m.Base || n < 0 || addr-m.Base+uint64(n) > uint64(len(m.buf)) {
		return 0, fmt.Errorf("%w: %d bytes at %#x", ErrFault, n, addr)
	}
	return int(addr - m.Base), nil
}

// Alloc reserves n bytes (8-aligned), optionally filled with init, and
// returns their address.
func (m *Memory) Alloc(n int, init []byte) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	off := (m.next + 7) &^ 7
	if off+n > len(m.buf) {
		panic("sptest: out of memory")
	}
	m.next = off + n
	copy(m.buf[off:off+n], init)
	return m.Base + uint64(off)
}

// String stores s with its NUL and returns its address.
func (m *Memory) String(s string) uint64 { return m.Alloc(len(s)+1, []byte(s)) }

// Read returns a copy of n bytes at addr.
func (m *Memory) Read(addr uint64, n int) []byte {
	b, err := m.CopyIn(addr, n)
	if err != nil {
		panic(err)
	}
	return b
}

// CopyIn implements sp.AddressSpace.
func (m *Memory) CopyIn(addr uint64, n int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, n)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), m.buf[off:off+n]...), nil
}

// CopyInStr implements sp.AddressSpace.
func (m *Memory) CopyInStr(addr uint64, max int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, 1)
	if err != nil {
		return nil, err
	}
	end := min(off+max, len(m.buf))
	for i := off; i < end; i++ {
		if m.buf[i] == 0 {
			return append([]byte(nil), m.buf[off:i+1]...), nil
		}
	}
	return append([]byte(nil), m.buf[off:end]...), nil
}

// CopyOut implements sp.AddressSpace.
func (m *Memory) CopyOut(addr uint64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, len(data))
	if err != nil {
		return err
	}
	copy(m.buf[off:], data)
	return nil
}

// AnonMmap implements sp.AddressSpace from the bump allocator.
func (m *Memory) AnonMmap(size uint64) uint64 {
	m.mu.Lock()
	free := uint64(len(m.buf) - m.next)
	m.mu.Unlock()
	if size == 0 || size > free {
		return 0
	}
	return m.Alloc(int(size), nil)
}

// Raise implements sp.AddressSpace by recording the signal.
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
