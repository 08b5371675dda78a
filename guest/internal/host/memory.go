//go:build wasip1

package host

import (
	"unsafe"

	"github.com/rumpsprig/sprig/internal/flatmem"
)

// NewMemory returns the guest's address space as the server reaches it:
// size fresh bytes of linear memory, whose wire addresses are their
// linear addresses. When the wire pointer is 8 bytes wide the guest adds
// a high bias with SetBase, so that a truncation to 32 bits anywhere
// points outside the arena.
func NewMemory(size int) *flatmem.Memory {
	a := make([]byte, size)
	return flatmem.New(a, uint64(uintptr(unsafe.Pointer(&a[0]))))
}
