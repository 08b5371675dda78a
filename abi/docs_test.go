package abi_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// The example in docs/abi-json.md is a valid descriptor with the
// properties the page claims: 4-byte pointers, 8-byte register_t, so
// 8-byte syscall slots with a narrow value at the end on big-endian.
func TestDocsABIJSONExample(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "docs", "abi-json.md"))
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(page)
	require.NotNil(t, m, "docs/abi-json.md has a json example")
	d, err := abi.Parse(m[1])
	require.NoError(t, err)
	assert.Equal(t, "mipsn32", d.Name)
	assert.Equal(t, 4, d.Pointer.Size)
	assert.Equal(t, 8, d.RegisterT.Size)
	assert.True(t, d.BigEndian())
	assert.False(t, d.Has(abi.BaseInt128))

	lseek := netbsd.LayoutsFor(d).Args(netbsd.SYS_lseek)
	assert.Equal(t, 32, lseek.Size, "four 8-byte slots")
	assert.Equal(t, abi.Range{Offset: 4, Size: 4}, lseek.Slots[0].Datum, "fd at the end of its 8-byte slot")
	assert.Equal(t, 152, netbsd.LayoutsFor(d).Stat.Size, "struct stat as on mips o32")

	// The file of the page, saved under any name, loads.
	path := filepath.Join(t.TempDir(), "my-abi")
	require.NoError(t, os.WriteFile(path, m[1], 0o644))
	r, err := abi.Resolve(path)
	require.NoError(t, err)
	assert.True(t, r.Equal(d))

	// Every key the page's table lists is a descriptor key, and every
	// key a descriptor marshals is in the table.
	for _, k := range []string{"name", "aliases", "machine", "machine_arch", "endian", "char", "short", "int", "long",
		"long_long", "pointer", "size_t", "register_t", "float", "double", "bool", "long_double", "int128",
		"char_signed", "register_t_signed", "unnamed_bitfields_align", "compiler", "note"} {
		assert.True(t, bytes.Contains(page, []byte("`"+k+"`")), "docs/abi-json.md lacks key %s", k)
	}
	arm := marshal(t, abi.MustLookup("arm"))
	for _, k := range regexp.MustCompile(`"([a-z_0-9]+)":`).FindAllSubmatch(arm, -1) {
		if string(k[1]) == "size" || string(k[1]) == "align" {
			continue
		}
		assert.True(t, bytes.Contains(page, []byte("`"+string(k[1])+"`")), "docs/abi-json.md lacks key %s", k[1])
	}
}
