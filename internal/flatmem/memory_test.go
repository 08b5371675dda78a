package flatmem_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/internal/flatmem"
	"github.com/rumpsprig/sprig/sp"
)

var ctx = context.Background()

const flatBase = 0x1000

// newFlat returns a 256-byte FlatMemory at flatBase.
func newFlat() *flatmem.Memory { return flatmem.New(make([]byte, 256), flatBase) }

func TestFlatMemoryBounds(t *testing.T) {
	cases := []struct {
		name string
		addr uint64
		n    int
		ok   bool
	}{
		{"all of it", flatBase, 256, true},
		{"the first byte", flatBase, 1, true},
		{"the last byte", flatBase + 255, 1, true},
		{"nothing at the base", flatBase, 0, true},
		{"nothing just past the end", flatBase + 256, 0, true},
		{"a byte past the end", flatBase + 256, 1, false},
		{"one byte more than there is", flatBase, 257, false},
		{"running off the end", flatBase + 200, 57, false},
		{"a byte below the base", flatBase - 1, 1, false},
		{"address 0", 0, 1, false},
		{"a negative length", flatBase, -1, false},
		{"a length that wraps past the top", ^uint64(0), 2, false},
		{"far beyond", 1 << 40, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newFlat()
			got, err := m.CopyIn(ctx, tc.addr, tc.n)
			if !tc.ok {
				require.ErrorIs(t, err, sp.ErrFault)
				assert.Nil(t, got)
				if tc.n >= 0 {
					assert.ErrorIs(t, m.CopyOut(ctx, tc.addr, make([]byte, tc.n)), sp.ErrFault)
				}
				assert.Panics(t, func() { m.Read(tc.addr, tc.n) })
				return
			}
			require.NoError(t, err)
			assert.Len(t, got, tc.n)
			data := make([]byte, tc.n)
			for i := range data {
				data[i] = byte(i + 1)
			}
			require.NoError(t, m.CopyOut(ctx, tc.addr, data))
			assert.Equal(t, data, append([]byte{}, m.Read(tc.addr, tc.n)...))
		})
	}
}

func TestFlatMemoryCopyInStr(t *testing.T) {
	m := newFlat()
	require.NoError(t, m.CopyOut(ctx, flatBase, []byte("abc\x00def")))
	require.NoError(t, m.CopyOut(ctx, flatBase+253, []byte("xyz"))) // no NUL before the end
	cases := []struct {
		name string
		addr uint64
		max  int
		want string
		err  error // nil, sp.ErrNameTooLong or sp.ErrFault
	}{
		{"up to the NUL, excluded", flatBase, 100, "abc", nil},
		{"max just takes the NUL", flatBase, 4, "abc", nil},
		{"max stops before the NUL", flatBase, 3, "abc", sp.ErrNameTooLong},
		{"max cuts the string", flatBase, 2, "ab", sp.ErrNameTooLong},
		{"max 0", flatBase, 0, "", sp.ErrNameTooLong},
		{"negative max", flatBase, -5, "", sp.ErrNameTooLong},
		{"an empty string", flatBase + 3, 100, "", nil},
		{"no NUL: what is there up to max", flatBase + 4, 3, "def", sp.ErrNameTooLong},
		{"no NUL before the end: what is there, faulting", flatBase + 253, 100, "xyz", sp.ErrFault},
		{"the last byte", flatBase + 255, 100, "z", sp.ErrFault},
		{"at the end", flatBase + 256, 100, "", sp.ErrFault},
		{"below the base", flatBase - 1, 100, "", sp.ErrFault},
		{"at the top of the address space", ^uint64(0), 100, "", sp.ErrFault},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.CopyInStr(ctx, tc.addr, tc.max)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFlatMemoryAlloc(t *testing.T) {
	m := newFlat()
	for i := range 256 {
		require.NoError(t, m.CopyOut(ctx, flatBase+uint64(i), []byte{0xee}))
	}

	a := m.Alloc(5, []byte("hi"))
	assert.Equal(t, uint64(flatBase+64), a, "the head of the memory is never allocated")
	assert.Equal(t, "hi\x00\x00\x00", string(m.Read(a, 5)), "init, then zeroes over what was there")
	b := m.AllocString("s")
	assert.Zero(t, b%16, "16-aligned")
	assert.Equal(t, uint64(flatBase+80), b)
	assert.Equal(t, "s\x00", string(m.Read(b, 2)))

	c, bytes := m.AllocBytes(4)
	assert.Equal(t, uint64(flatBase+96), c)
	assert.Equal(t, []byte{0, 0, 0, 0}, bytes)
	assert.Equal(t, 4, cap(bytes), "the bytes cannot grow into the next allocation")
	copy(bytes, "wxyz")
	assert.Equal(t, "wxyz", string(m.Read(c, 4)), "the bytes are the memory's")

	assert.Panics(t, func() { m.Alloc(256, nil) }, "too big")
	assert.Panics(t, func() { m.Alloc(-1, nil) })
	last := m.Alloc(256-112, nil)
	assert.Equal(t, uint64(flatBase+112), last, "exactly what is left fits")
	assert.Panics(t, func() { m.Alloc(1, nil) }, "exhausted")

	m.Reset()
	again, bytes := m.AllocBytes(8)
	assert.Equal(t, a, again, "Reset frees everything")
	assert.Equal(t, make([]byte, 8), bytes, "reused bytes come back zeroed")

	bad := m.BadAddress()
	assert.Greater(t, bad, uint64(flatBase+256))
	_, err := m.CopyIn(ctx, bad, 1)
	assert.ErrorIs(t, err, sp.ErrFault)
}

func TestFlatMemoryAnonMmap(t *testing.T) {
	cases := []struct {
		name  string
		used  int // allocated first
		size  uint64
		want  uint64
		after int // free bytes after it, when it succeeds
	}{
		{"size 0 fails", 0, 0, 0, 0},
		{"a page in a quarter-page memory fails", 0, 4096, 0, 0},
		{"a size beyond int fails", 0, 1 << 63, 0, 0},
		{"all there is", 0, 192, flatBase + 64, 0},
		{"one byte too many", 0, 193, 0, 0},
		{"after an allocation, aligned", 1, 16, flatBase + 80, 160},
		{"fits in bytes but not once aligned", 1, 191, 0, 0},
		{"exactly what is left once aligned", 1, 176, flatBase + 80, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newFlat()
			if tc.used > 0 {
				m.Alloc(tc.used, nil)
			}
			got, err := m.AnonMmap(ctx, tc.size)
			require.Equal(t, fmt.Sprintf("%#x", tc.want), fmt.Sprintf("%#x", got))
			if got == 0 {
				require.ErrorIs(t, err, netbsd.ENOMEM)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, make([]byte, tc.size), m.Read(got, int(tc.size)), "zeroed")
			_, err = m.AnonMmap(ctx, uint64(max(tc.after, 1)))
			if tc.after == 0 {
				assert.ErrorIs(t, err, netbsd.ENOMEM, "nothing left")
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestFlatMemorySetBase(t *testing.T) {
	m := newFlat()
	a := m.AllocString("moved")
	bad := m.BadAddress()
	const bias = 0x1_0000_0000
	m.SetBase(m.Base() + bias)
	assert.Equal(t, uint64(flatBase+bias), m.Base())

	_, err := m.CopyIn(ctx, a, 1)
	assert.ErrorIs(t, err, sp.ErrFault, "the old address is gone")
	s, err := m.CopyInStr(ctx, a+bias, 100)
	require.NoError(t, err)
	assert.Equal(t, "moved", s, "the bytes moved with the base")
	require.NoError(t, m.CopyOut(ctx, flatBase+bias+255, []byte{1}))
	assert.ErrorIs(t, m.CopyOut(ctx, flatBase+bias+256, []byte{1}), sp.ErrFault)

	assert.Equal(t, bad+bias, m.BadAddress())
	b := m.Alloc(1, nil)
	assert.Equal(t, a+bias+16, b, "allocation goes on at the new base")
	p, err := m.AnonMmap(ctx, 16)
	require.NoError(t, err)
	assert.Equal(t, a+bias+32, p)
}

func TestFlatMemorySignals(t *testing.T) {
	m := newFlat()
	assert.Empty(t, m.Signals())
	m.Raise(30)
	m.Raise(1)
	assert.Equal(t, []int32{30, 1}, m.Signals())
	assert.Equal(t, []int32{30, 1}, m.Signals(), "Signals keeps them")
	assert.Equal(t, []int32{30, 1}, m.TakeSignals())
	assert.Empty(t, m.TakeSignals(), "TakeSignals forgets them")
	assert.Empty(t, m.Signals())
	m.Raise(2)
	m.Reset()
	assert.Equal(t, []int32{2}, m.Signals(), "Reset keeps signals")
}

// TestFlatMemoryConcurrentUse runs allocators, server-style accesses and
// signals at once; under -race it checks the locking, and the data checks
// that no two allocations overlap.
func TestFlatMemoryConcurrentUse(t *testing.T) {
	const workers, rounds = 8, 50
	m := flatmem.New(make([]byte, 1<<20), 0x7f00_0000_0000)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				want := fmt.Sprintf("worker %d round %d", w, r)
				a := m.AllocString(want)
				p, err := m.AnonMmap(ctx, 64)
				if err != nil {
					errs <- fmt.Errorf("%s: AnonMmap: %w", want, err)
					return
				}
				if err := m.CopyOut(ctx, p, []byte(want)); err != nil {
					errs <- err
					return
				}
				m.Raise(int32(w))
				for _, addr := range []uint64{a, p} {
					got, err := m.CopyInStr(ctx, addr, 100)
					if err != nil || got != want {
						errs <- fmt.Errorf("%s: read back %q, %v", want, got, err)
						return
					}
				}
				_ = m.Signals()
				_ = m.Base()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Len(t, m.Signals(), workers*rounds)
}

// AppendCopyIn appends what CopyIn would return to the buffer it is given,
// in place when the buffer has room, and leaves the buffer as it was on a
// fault.
func TestFlatMemoryAppendCopyIn(t *testing.T) {
	m := newFlat()
	require.NoError(t, m.CopyOut(ctx, flatBase+16, []byte("bytes at 16")))
	room := make([]byte, 2, 64)
	copy(room, "<>")
	got, err := m.AppendCopyIn(ctx, room, flatBase+16, 11)
	require.NoError(t, err)
	assert.Equal(t, "<>bytes at 16", string(got))
	assert.Same(t, &room[0], &got[0], "appended in the buffer's own room")

	got, err = m.AppendCopyIn(ctx, room[:1], flatBase+250, 7)
	require.ErrorIs(t, err, sp.ErrFault)
	assert.Equal(t, "<", string(got))
	want, err := m.CopyIn(ctx, flatBase+16, 11)
	require.NoError(t, err)
	got, err = m.AppendCopyIn(ctx, nil, flatBase+16, 11)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
