package wasmhost

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTheCopyingFallbackKeepsItsBytes(t *testing.T) {
	m := &copyingMemory{buf: make([]byte, 0, 8)}
	b := m.Reallocate(4)
	copy(b, "abcd")
	assert.Equal(t, []byte("abcd\x00\x00\x00\x00\x00\x00"), m.Reallocate(10))
	m.Free()
}
