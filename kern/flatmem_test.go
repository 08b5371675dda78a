package kern_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// flatMem is an sp.ClientMemory over one byte slice at base, for driving
// a Process without a connection. Accesses outside it fail with EFAULT,
// as a real client's bad address does.
type flatMem struct {
	mu   sync.Mutex
	base uint64
	b    []byte
	maps int
}

func newFlatMem(base uint64, b []byte) *flatMem { return &flatMem{base: base, b: b} }

func (m *flatMem) span(addr uint64, n int) (int, error) {
	if n < 0 || addr < m.base || addr-m.base > uint64(len(m.b)) || uint64(n) > uint64(len(m.b))-(addr-m.base) {
		return 0, fmt.Errorf("%w: %d bytes at %#x", netbsd.EFAULT, n, addr)
	}
	return int(addr - m.base), nil
}

func (m *flatMem) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, n)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), m.b[off:off+n]...), nil
}

func (m *flatMem) CopyInStr(ctx context.Context, addr uint64, max int) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, 0)
	if err != nil {
		return "", err
	}
	for i := off; i < len(m.b) && i-off < max; i++ {
		if m.b[i] == 0 {
			return string(m.b[off:i]), nil
		}
	}
	if len(m.b)-off < max {
		return "", fmt.Errorf("%w: string at %#x runs off memory", netbsd.EFAULT, addr)
	}
	return "", fmt.Errorf("%w: no NUL within %d bytes", netbsd.ENAMETOOLONG, max)
}

func (m *flatMem) CopyOut(ctx context.Context, addr uint64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.span(addr, len(data))
	if err != nil {
		return err
	}
	copy(m.b[off:], data)
	return nil
}

// AnonMmap hands out made-up addresses above the buffer: the kernel only
// passes them back.
func (m *flatMem) AnonMmap(ctx context.Context, size uint64) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size > 1<<30 {
		return 0, fmt.Errorf("%w: %d bytes", netbsd.ENOMEM, size)
	}
	m.maps++
	return m.base + uint64(len(m.b)) + uint64(m.maps)<<20, nil
}
