//go:build wasip1

package host

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// ErrFault is returned for an address outside the guest's arena.
var ErrFault = errors.New("host: bad address")

// Memory is the guest's address space as the server reaches it: an arena
// in linear memory. Wire addresses are linear addresses plus Bias, which
// the guest sets to a high value when the wire pointer is 8 bytes wide so
// that a truncation to 32 bits anywhere points outside the arena.
type Memory struct {
	mu      sync.Mutex
	arena   []byte
	base    uint64 // linear address of arena[0]
	Bias    uint64
	next    int
	signals []int32
}

// NewMemory reserves size bytes of linear memory.
func NewMemory(size int) *Memory {
	a := make([]byte, size)
	return &Memory{arena: a, base: uint64(uintptr(unsafe.Pointer(&a[0]))), next: 64}
}

// Alloc returns the wire address and the bytes of n fresh bytes.
func (m *Memory) Alloc(n int) (uint64, []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off := (m.next + 15) &^ 15
	if off+n > len(m.arena) {
		panic(fmt.Sprintf("host: arena exhausted (%d bytes asked)", n))
	}
	m.next = off + n
	clear(m.arena[off : off+n])
	return m.base + uint64(off) + m.Bias, m.arena[off : off+n : off+n]
}

// String stores s with its NUL and returns its wire address.
func (m *Memory) String(s string) uint64 {
	a, b := m.Alloc(len(s) + 1)
	copy(b, s)
	return a
}

// Reset frees every allocation.
func (m *Memory) Reset() {
	m.mu.Lock()
	m.next = 64
	m.mu.Unlock()
}

// BadAddress returns a wire address no allocation will ever cover.
func (m *Memory) BadAddress() uint64 { return m.base + uint64(len(m.arena)) + 1<<20 + m.Bias }

func (m *Memory) span(addr uint64, n int) ([]byte, error) {
	off := addr - m.Bias - m.base
	if addr < m.Bias+m.base || n < 0 || off+uint64(n) > uint64(len(m.arena)) {
		return nil, fmt.Errorf("%w: %d bytes at %#x", ErrFault, n, addr)
	}
	return m.arena[off : off+uint64(n)], nil
}

// CopyIn implements sp.AddressSpace.
func (m *Memory) CopyIn(addr uint64, n int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.span(addr, n)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// CopyInStr implements sp.AddressSpace.
func (m *Memory) CopyInStr(addr uint64, max int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.span(addr, 1); err != nil {
		return nil, err
	}
	off := addr - m.Bias - m.base
	end := min(off+uint64(max), uint64(len(m.arena)))
	for i := off; i < end; i++ {
		if m.arena[i] == 0 {
			return append([]byte(nil), m.arena[off:i+1]...), nil
		}
	}
	return append([]byte(nil), m.arena[off:end]...), nil
}

// CopyOut implements sp.AddressSpace.
func (m *Memory) CopyOut(addr uint64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.span(addr, len(data))
	if err != nil {
		return err
	}
	copy(b, data)
	return nil
}

// AnonMmap implements sp.AddressSpace from the arena.
func (m *Memory) AnonMmap(size uint64) uint64 {
	m.mu.Lock()
	free := uint64(len(m.arena) - m.next)
	m.mu.Unlock()
	if size == 0 || size > free {
		return 0
	}
	a, _ := m.Alloc(int(size))
	return a
}

// Raise implements sp.AddressSpace by recording the signal.
func (m *Memory) Raise(sig int32) {
	m.mu.Lock()
	m.signals = append(m.signals, sig)
	m.mu.Unlock()
}

// Signals returns and clears the signals received.
func (m *Memory) Signals() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.signals
	m.signals = nil
	return s
}
