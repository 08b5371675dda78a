package sptest

import "github.com/rumpsprig/sprig/internal/flatmem"

// Memory is a flat client address space for test clients: size bytes at a
// base address (see NewMemory), implementing sp.Memory. Addresses outside
// it fault with sp.ErrFault. Besides the sp.Memory methods it has a bump
// allocator (Alloc, AllocBytes, AllocString, Reset) whose addresses a
// test passes in syscall arguments, Read for checking what the server
// wrote, BadAddress for an address that always faults, SetBase to move
// the memory (to test address widths), and Raise/Signals/TakeSignals to
// record the signals the server raised (pass Raise as
// sp.ClientConfig.OnSignal). It is safe for concurrent use.
type Memory = flatmem.Memory

// NewMemory returns size bytes of zeroed memory at base.
func NewMemory(base uint64, size int) *Memory { return flatmem.New(make([]byte, size), base) }
