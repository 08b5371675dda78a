package sp

import (
	"errors"
	"fmt"
	"sync"
)

// ErrFault is returned by a FlatMemory for an access outside it.
var ErrFault = errors.New("sp: bad address")

const (
	flatAlign = 16 // alignment of every allocation
	flatHead  = 64 // bytes left unallocated at the base address
)

// FlatMemory is an AddressSpace over one byte slice mapped at a base
// address, with a bump allocator for Alloc and ANONMMAP, recording raised
// signals. Addresses outside the slice fault with ErrFault. It is safe
// for concurrent use: a Client's reader goroutine serves the server's
// requests from it while the caller's goroutines allocate.
//
// sptest.Memory is a FlatMemory for tests; the WebAssembly guest maps
// its arena in linear memory with one.
type FlatMemory struct {
	mu      sync.Mutex
	buf     []byte
	base    uint64 // address of buf[0]
	next    int    // offset of the first free byte
	signals []int32
}

// NewFlatMemory returns buf as an address space starting at base. Its
// allocations overwrite buf, which the caller must not use meanwhile.
func NewFlatMemory(buf []byte, base uint64) *FlatMemory {
	return &FlatMemory{buf: buf, base: base, next: flatHead}
}

// Base returns the address of the memory's first byte.
func (m *FlatMemory) Base() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.base
}

// SetBase moves the memory to base. Allocations keep their bytes and
// their offsets, so addresses handed out before point elsewhere after.
func (m *FlatMemory) SetBase(base uint64) {
	m.mu.Lock()
	m.base = base
	m.mu.Unlock()
}

// take reserves n zeroed bytes at the next aligned offset; m.mu is held.
func (m *FlatMemory) take(n int) (int, bool) {
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
func (m *FlatMemory) AllocBytes(n int) (uint64, []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, ok := m.take(n)
	if !ok {
		panic(fmt.Sprintf("sp: FlatMemory exhausted (%d bytes asked, %d in all)", n, len(m.buf)))
	}
	return m.base + uint64(off), m.buf[off : off+n : off+n]
}

// Alloc reserves n bytes (16-aligned), filled with init and zeroes after
// it, and returns their address. It panics when n bytes do not fit.
func (m *FlatMemory) Alloc(n int, init []byte) uint64 {
	addr, b := m.AllocBytes(n)
	copy(b, init)
	return addr
}

// String stores s with its NUL and returns its address.
func (m *FlatMemory) String(s string) uint64 { return m.Alloc(len(s)+1, []byte(s)) }

// Reset frees every allocation; signals stay recorded.
func (m *FlatMemory) Reset() {
	m.mu.Lock()
	m.next = flatHead
	m.mu.Unlock()
}

// BadAddress returns an address no allocation will ever cover: 1 MiB
// past the end of the memory.
func (m *FlatMemory) BadAddress() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.base + uint64(len(m.buf)) + 1<<20
}

// Read returns a copy of n bytes at addr and panics if they are not all
// inside the memory.
func (m *FlatMemory) Read(addr uint64, n int) []byte {
	b, err := m.CopyIn(addr, n)
	if err != nil {
		panic(err)
	}
	return b
}

// span returns the offset of n bytes at addr; m.mu is held.
func (m *FlatMemory) span(addr uint64, n int) (int, error) {
	off := addr - m.base
	if addr < m.base || n < 0 || off > uint64(len(m.buf)) || uint64(n) > uint64(len(m.buf))-off {
		return 0, fmt.Errorf("%w: %d bytes at %#x", ErrFault, n, addr)
	}
	return int(off), nil
}

// CopyIn implements AddressSpace.
func (m *FlatMemory) CopyIn(addr uint64, n int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, n)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), m.buf[off:off+n]...), nil
}

// CopyInStr implements AddressSpace: the bytes up to and including the
// first NUL, at most max of them; without a NUL among them, all there are
// up to max or the end of the memory. Only addr itself must be inside.
func (m *FlatMemory) CopyInStr(addr uint64, max int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, 1)
	if err != nil {
		return nil, err
	}
	if max < 0 {
		max = 0
	}
	end := off + min(max, len(m.buf)-off)
	for i := off; i < end; i++ {
		if m.buf[i] == 0 {
			return append([]byte(nil), m.buf[off:i+1]...), nil
		}
	}
	return append([]byte(nil), m.buf[off:end]...), nil
}

// CopyOut implements AddressSpace.
func (m *FlatMemory) CopyOut(addr uint64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, len(data))
	if err != nil {
		return err
	}
	copy(m.buf[off:], data)
	return nil
}

// AnonMmap implements AddressSpace from the bump allocator: size zeroed
// bytes, or 0 when size is 0 or does not fit.
func (m *FlatMemory) AnonMmap(size uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size == 0 || size > uint64(len(m.buf)) {
		return 0
	}
	off, ok := m.take(int(size))
	if !ok {
		return 0
	}
	return m.base + uint64(off)
}

// Raise implements AddressSpace by recording the signal.
func (m *FlatMemory) Raise(sig int32) {
	m.mu.Lock()
	m.signals = append(m.signals, sig)
	m.mu.Unlock()
}

// Signals returns the signals raised so far.
func (m *FlatMemory) Signals() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int32(nil), m.signals...)
}

// TakeSignals returns the signals raised since the last TakeSignals and
// forgets them.
func (m *FlatMemory) TakeSignals() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.signals
	m.signals = nil
	return s
}
