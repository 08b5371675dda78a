package wasmhost

import (
	"sync/atomic"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// memoryAllocator backs each guest's linear memory with one anonymous
// mapping of its maximum size (Options.MemoryLimitPages), reserved up
// front and touched only as the guest uses it. wazero's default keeps
// linear memory in a Go slice and copies all of it whenever the guest
// grows:
// a Go guest grows its memory dozens of times as its heap fills, and
// those copies and the zeroing of each new slice were a tenth of
// `sprig matrix`'s CPU. Here memory.grow only lengthens the slice; the
// pages stay the kernel's zero pages until touched and nothing moves.
var memoryAllocator experimental.MemoryAllocator = experimental.MemoryAllocatorFunc(reserveMemory)

type reservedMemory struct{ buf []byte }

// liveReservations counts reservations not yet freed, for tests that
// check nothing keeps a guest's memory.
var liveReservations atomic.Int64

// reserveMemory maps max bytes; when that fails it falls back to a
// memory that grows by copying, as wazero's own does.
func reserveMemory(capacity, max uint64) experimental.LinearMemory {
	if max > 0 && max <= 1<<32 {
		buf, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
		if err == nil {
			liveReservations.Add(1)
			return &reservedMemory{buf: buf[:0]}
		}
	}
	return &copyingMemory{buf: make([]byte, 0, capacity)}
}

func (m *reservedMemory) Reallocate(size uint64) []byte {
	if size > uint64(cap(m.buf)) {
		return nil // past the limit: memory.grow fails in the guest
	}
	m.buf = m.buf[:size]
	return m.buf
}

func (m *reservedMemory) Free() {
	if m.buf != nil {
		syscall.Munmap(m.buf[:cap(m.buf)])
		m.buf = nil
		liveReservations.Add(-1)
	}
}

// copyingMemory grows by copying into a larger slice, as wazero's
// default memory does: the fallback when no mapping can be reserved.
type copyingMemory struct{ buf []byte }

func (m *copyingMemory) Reallocate(size uint64) []byte {
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	nb := make([]byte, size, max(size, 2*uint64(cap(m.buf))))
	copy(nb, m.buf)
	m.buf = nb
	return nb
}

func (m *copyingMemory) Free() { m.buf = nil }
