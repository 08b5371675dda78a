package netbsd_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// LayoutsFor keys its cache by the descriptor's content, not its
// pointer: every Lookup hands out a new copy, and those share one entry;
// changing a descriptor changes nothing cached; the cache is bounded.
func TestLayoutsForKeysByContent(t *testing.T) {
	a, b := abi.MustLookup("i386"), abi.MustLookup("i386")
	require.NotSame(t, a, b)
	la := netbsd.LayoutsFor(a)
	assert.Same(t, la, netbsd.LayoutsFor(b), "equal descriptors share their layouts")
	assert.NotSame(t, a, la.ABI, "the layouts hold their own copy")

	// Mutating the caller's descriptor does not reach the cache.
	a.LongLong = abi.Scalar{Size: 8, Align: 8}
	assert.Equal(t, 4, netbsd.LayoutsFor(b).ABI.LongLong.Align)
	assert.Equal(t, 124, netbsd.LayoutsFor(b).Stat.Size)
	// And the mutated descriptor gets layouts of its own content.
	assert.Equal(t, 152, netbsd.LayoutsFor(a).Stat.Size, "i386 with 8-aligned long long lays stat out like arm")
	assert.Equal(t, 124, netbsd.LayoutsFor(abi.MustLookup("i386")).Stat.Size, "the built-in is untouched")

	// A name is content too: the same numbers under another name are
	// another entry, so Layouts.ABI names what the caller asked for.
	renamed := abi.MustLookup("i386")
	renamed.Name, renamed.Aliases = "sprigtest-i386-copy", nil
	assert.Equal(t, "sprigtest-i386-copy", netbsd.LayoutsFor(renamed).ABI.Name)
	// Even a note is: the same name and numbers with another note get
	// layouts whose descriptor carries that note.
	noted := abi.MustLookup("i386")
	noted.Note = "sprigtest: the same i386, annotated"
	assert.Equal(t, noted.Note, netbsd.LayoutsFor(noted).ABI.Note)
	assert.NotEqual(t, noted.Note, netbsd.LayoutsFor(abi.MustLookup("i386")).ABI.Note)

	// Bounded: many distinct user descriptors do not grow it past the
	// limit.
	for i := range 3 * netbsd.MaxCachedLayouts {
		d := abi.MustLookup("arm")
		d.Name = fmt.Sprintf("sprigtest-lru-%d", i)
		netbsd.LayoutsFor(d)
	}
	assert.LessOrEqual(t, netbsd.CachedLayouts(), netbsd.MaxCachedLayouts)
}

// BenchmarkLayoutsFor measures the cached lookup every syscall makes,
// against a plain map lookup by name as the baseline.
func BenchmarkLayoutsFor(b *testing.B) {
	d := abi.MustLookup("amd64")
	netbsd.LayoutsFor(d)
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			netbsd.LayoutsFor(d)
		}
	})
	m := map[string]*netbsd.Layouts{"amd64": netbsd.LayoutsFor(d)}
	b.Run("baseline-map-by-name", func(b *testing.B) {
		for b.Loop() {
			_ = m[d.Name]
		}
	})
}

// Every described syscall's argument layout is cached by its number, so
// every call finds it with one load; and each ABI lays a syscall's
// arguments out once, whoever asks, however many ask at once.
func TestEverySyscallHasAnArgsSlot(t *testing.T) {
	l := netbsd.LayoutsFor(abi.MustLookup("i386"))
	for _, sc := range netbsd.Syscalls() {
		assert.Less(t, uint64(sc.Num), uint64(netbsd.ArgSlots), "%s's number has no slot", sc.Name)
		a := l.Args(sc.Num)
		require.NotNil(t, a, sc.Name)
		assert.Same(t, a, l.Args(sc.Num), "%s laid out again", sc.Name)
	}
	assert.Nil(t, l.Args(netbsd.Sysno(netbsd.ArgSlots+3)), "an undescribed number past the slots")
	assert.Nil(t, l.Args(0), "syscall 0 is not described")

	fresh := netbsd.LayoutsFor(abi.MustLookup("sparc64"))
	got := make(chan *abi.ArgsLayout, 8)
	for range cap(got) {
		go func() { got <- fresh.Args(netbsd.SYS_pread) }()
	}
	first := <-got
	for range cap(got) - 1 {
		assert.Same(t, first, <-got, "callers racing for a first use got different layouts")
	}
}
