//go:build !linux

package wasmhost

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator is nil here: instances use wazero's own memory.
var memoryAllocator experimental.MemoryAllocator
