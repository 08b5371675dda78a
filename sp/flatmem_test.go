package sp_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/sp"
)

const flatBase = 0x1000

var _ sp.AddressSpace = (*sp.FlatMemory)(nil)

// newFlat returns a 256-byte FlatMemory at flatBase.
func newFlat() *sp.FlatMemory { return sp.NewFlatMemory(make([]byte, 256), flatBase) }

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
			got, err := m.CopyIn(tc.addr, tc.n)
			if !tc.ok {
				require.ErrorIs(t, err, sp.ErrFault)
				assert.Nil(t, got)
				if tc.n >= 0 {
					assert.ErrorIs(t, m.CopyOut(tc.addr, make([]byte, tc.n)), sp.ErrFault)
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
			require.NoError(t, m.CopyOut(tc.addr, data))
			assert.Equal(t, data, append([]byte{}, m.Read(tc.addr, tc.n)...))
		})
	}
}

func TestFlatMemoryCopyInStr(t *testing.T) {
	m := newFlat()
	require.NoError(t, m.CopyOut(flatBase, []byte("abc\x00def")))
	require.NoError(t, m.CopyOut(flatBase+253, []byte("xyz"))) // no NUL before the end
	cases := []struct {
		name string
		addr uint64
		max  int
		want string
		ok   bool
	}{
		{"up to the NUL, included", flatBase, 100, "abc\x00", true},
		{"max just takes the NUL", flatBase, 4, "abc\x00", true},
		{"max stops before the NUL", flatBase, 3, "abc", true},
		{"max cuts the string", flatBase, 2, "ab", true},
		{"max 0", flatBase, 0, "", true},
		{"negative max", flatBase, -5, "", true},
		{"an empty string", flatBase + 3, 100, "\x00", true},
		{"no NUL: what is there up to max", flatBase + 4, 3, "def", true},
		{"no NUL before the end: what is there", flatBase + 253, 100, "xyz", true},
		{"the last byte", flatBase + 255, 100, "z", true},
		{"at the end", flatBase + 256, 100, "", false},
		{"below the base", flatBase - 1, 100, "", false},
		{"at the top of the address space", ^uint64(0), 100, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.CopyInStr(tc.addr, tc.max)
			if !tc.ok {
				require.ErrorIs(t, err, sp.ErrFault)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

func TestFlatMemoryAlloc(t *testing.T) {
	m := newFlat()
	for i := range 256 {
		require.NoError(t, m.CopyOut(flatBase+uint64(i), []byte{0xee}))
	}

	a := m.Alloc(5, []byte("hi"))
	assert.Equal(t, uint64(flatBase+64), a, "the head of the memory is never allocated")
	assert.Equal(t, "hi\x00\x00\x00", string(m.Read(a, 5)), "init, then zeroes over what was there")
	b := m.String("s")
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
	_, err := m.CopyIn(bad, 1)
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
			got := m.AnonMmap(tc.size)
			require.Equal(t, fmt.Sprintf("%#x", tc.want), fmt.Sprintf("%#x", got))
			if got == 0 {
				return
			}
			assert.Equal(t, make([]byte, tc.size), m.Read(got, int(tc.size)), "zeroed")
			if tc.after == 0 {
				assert.Zero(t, m.AnonMmap(1), "nothing left")
			} else {
				assert.NotZero(t, m.AnonMmap(uint64(tc.after)))
			}
		})
	}
}

func TestFlatMemorySetBase(t *testing.T) {
	m := newFlat()
	a := m.String("moved")
	bad := m.BadAddress()
	const bias = 0x1_0000_0000
	m.SetBase(m.Base() + bias)
	assert.Equal(t, uint64(flatBase+bias), m.Base())

	_, err := m.CopyIn(a, 1)
	assert.ErrorIs(t, err, sp.ErrFault, "the old address is gone")
	s, err := m.CopyInStr(a+bias, 100)
	require.NoError(t, err)
	assert.Equal(t, "moved\x00", string(s), "the bytes moved with the base")
	require.NoError(t, m.CopyOut(flatBase+bias+255, []byte{1}))
	assert.ErrorIs(t, m.CopyOut(flatBase+bias+256, []byte{1}), sp.ErrFault)

	assert.Equal(t, bad+bias, m.BadAddress())
	b := m.Alloc(1, nil)
	assert.Equal(t, a+bias+16, b, "allocation goes on at the new base")
	assert.Equal(t, a+bias+32, m.AnonMmap(16))
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
	m := sp.NewFlatMemory(make([]byte, 1<<20), 0x7f00_0000_0000)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				want := fmt.Sprintf("worker %d round %d", w, r)
				a := m.String(want)
				p := m.AnonMmap(64)
				if p == 0 {
					errs <- fmt.Errorf("%s: AnonMmap failed", want)
					return
				}
				if err := m.CopyOut(p, []byte(want)); err != nil {
					errs <- err
					return
				}
				m.Raise(int32(w))
				for _, addr := range []uint64{a, p} {
					got, err := m.CopyInStr(addr, 100)
					if err != nil || string(got) != want+"\x00" {
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
