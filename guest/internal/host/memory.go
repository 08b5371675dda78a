//go:build wasip1

package host

import (
	"unsafe"

	"github.com/rumpsprig/sprig/sp"
)

// NewMemory returns the guest's address space as the server reaches it:
// size fresh bytes of linear memory, whose wire addresses are their
// linear addresses. When the wire pointer is 8 bytes wide the guest adds
// a high bias with SetBase, so that a truncation to 32 bits anywhere
// points outside the arena.
func NewMemory(size int) *sp.FlatMemory {
	a := make([]byte, size)
	return sp.NewFlatMemory(a, uint64(uintptr(unsafe.Pointer(&a[0]))))
}
