package sp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// byteMem is client memory for the translator's tests: one slice at 0.
type byteMem []byte

func (m byteMem) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	return append([]byte(nil), m[addr:addr+uint64(n)]...), nil
}
func (m byteMem) CopyInStr(ctx context.Context, addr uint64, max int) (string, error) {
	return "", ErrFault
}
func (m byteMem) CopyOut(ctx context.Context, addr uint64, data []byte) error {
	copy(m[addr:], data)
	return nil
}
func (m byteMem) AnonMmap(ctx context.Context, size uint64) (uint64, error) { return 0, ErrFault }

// A real rump kernel copies getdents records out one at a time, each at
// its own place in the buffer: a translating client must convert every
// one, not only the one at the buffer's start.
func TestClientTranslatesEveryDirentCopiedOutOnItsOwn(t *testing.T) {
	own, wire := abi.MustLookup("amd64"), abi.MustLookup("mips")
	mem := make(byteMem, 1024)
	tr := newTranslator(own, wire, mem)
	ctx := context.Background()
	buf := uint64(0x100)
	done := tr.begin(ctx, netbsd.SYS___getdents30, []uint64{3, buf, 256})
	record := func(d *abi.Descriptor, ino uint64, name string) []byte {
		l := netbsd.LayoutsFor(d).Dirent
		rl := (13 + len(name) + 1 + 7) &^ 7
		b := make([]byte, rl)
		require.NoError(t, l.EncodeTo(b, &netbsd.Dirent{Fileno: ino, Reclen: uint16(rl), Namlen: uint16(len(name)), Type: netbsd.DT_REG, Name: name}))
		return b
	}
	first, second := record(wire, 7, "a"), record(wire, 9, "bravo")
	require.NoError(t, tr.copyOut(ctx, mem, buf, first))
	require.NoError(t, tr.copyOut(ctx, mem, buf+uint64(len(first)), second))
	require.NoError(t, tr.copyOut(ctx, mem, buf+256, []byte{1, 2}), "past the buffer: untouched")
	done()
	assert.Equal(t, record(own, 7, "a"), []byte(mem[buf:buf+uint64(len(first))]))
	assert.Equal(t, record(own, 9, "bravo"), []byte(mem[buf+uint64(len(first)):buf+uint64(len(first)+len(second))]),
		"the second record, copied out alone")
	assert.Equal(t, []byte{1, 2}, []byte(mem[buf+256:buf+258]))
}
