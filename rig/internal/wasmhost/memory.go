package wasmhost

import (
	"context"

	"github.com/tetratelabs/wazero/experimental"
)

// withMemoryAllocator has the instance instantiated under ctx use
// memoryAllocator, where this platform has one (memory_linux.go).
func withMemoryAllocator(ctx context.Context) context.Context {
	if memoryAllocator == nil {
		return ctx
	}
	return experimental.WithMemoryAllocator(ctx, memoryAllocator)
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
