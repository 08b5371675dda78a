package bufpool

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A buffer given back is handed out again, without allocating, up to the
// pool's bound; slices of another size are not taken.
func TestABufferGivenBackIsHandedOutAgain(t *testing.T) {
	p := New(1<<10, 2)
	a, b, c := p.Get(), p.Get(), p.Get()
	assert.Len(t, a, 1<<10)
	p.Put(a[:10]) // a slice of a buffer: its capacity counts
	p.Put(b)
	p.Put(c) // past the bound
	p.Put(make([]byte, 10))
	assert.Len(t, p.free, 2)
	got := map[*byte]bool{&p.Get()[0]: true, &p.Get()[0]: true}
	assert.True(t, got[&a[0]] && got[&b[0]], "the buffers given back were not handed out again")
	p.Put(a)
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.Put(p.Get()) }), "a Get and Put allocated")
}
