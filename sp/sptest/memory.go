package sptest

import "github.com/rumpsprig/sprig/sp"

// Memory is a flat client address space: size bytes starting at a base
// address (see NewMemory). Addresses outside it fault with ErrFault. It
// also records signals raised and keeps a bump allocator for Alloc and
// AnonMmap.
type Memory = sp.FlatMemory

// ErrFault is returned for an access outside the address space.
var ErrFault = sp.ErrFault

// NewMemory returns size bytes of zeroed memory at base.
func NewMemory(base uint64, size int) *Memory { return sp.NewFlatMemory(make([]byte, size), base) }
