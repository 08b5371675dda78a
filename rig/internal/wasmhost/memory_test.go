package wasmhost

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Growing a guest's memory must keep what it held and hand out zeros,
// and memory past the limit must be refused, not granted.
func TestGuestMemoryGrowsInPlaceKeepingItsBytes(t *testing.T) {
	if memoryAllocator == nil {
		t.Skipf("no memory allocator on %s: instances use wazero's own memory", runtime.GOOS)
	}
	const limit = 64 << 20
	m := memoryAllocator.Allocate(1<<16, limit)
	defer m.Free()
	b := m.Reallocate(1 << 16)
	require.Len(t, b, 1<<16)
	b[0], b[len(b)-1] = 0xa5, 0x5a
	grown := m.Reallocate(32 << 20)
	require.Len(t, grown, 32<<20)
	assert.Equal(t, byte(0xa5), grown[0])
	assert.Equal(t, byte(0x5a), grown[1<<16-1])
	assert.Equal(t, make([]byte, 4096), grown[1<<16:1<<16+4096], "new memory reads as zeros")
	assert.Same(t, &b[0], &grown[0], "growing moved the memory")
	assert.Nil(t, m.Reallocate(limit+1<<16), "memory past the limit")
}
