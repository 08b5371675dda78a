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
