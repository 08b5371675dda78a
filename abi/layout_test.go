package abi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

func r(off, size int) abi.Range { return abi.Range{Offset: off, Size: size} }

func TestPaddingRanges(t *testing.T) {
	stat := func(name string) []abi.Range { return netbsd.LayoutsFor(abi.MustLookup(name)).Stat.Padding() }
	// LP64: the holes after st_mode and st_gid, the tail after st_spare.
	assert.Equal(t, []abi.Range{r(12, 4), r(36, 4), r(148, 4)}, stat("amd64"))
	assert.Equal(t, []abi.Range{r(12, 4), r(36, 4), r(148, 4)}, stat("sparc64"))
	// i386 packs it all.
	assert.Empty(t, stat("i386"))
	// 32-bit with 8-aligned int64: also the tail of every timespec.
	want := []abi.Range{r(12, 4), r(36, 4), r(60, 4), r(76, 4), r(92, 4), r(108, 4), r(148, 4)}
	for _, name := range ilp32a8 {
		assert.Equal(t, want, stat(name), name)
	}

	sysresp := func(name string) []abi.Range { return netbsd.LayoutsFor(abi.MustLookup(name)).Sysresp.Padding() }
	assert.Equal(t, []abi.Range{r(4, 4)}, sysresp("amd64"), "the 4 uninitialised bytes of a real server's reply")
	assert.Empty(t, sysresp("i386"))
	assert.Empty(t, sysresp("mips"))

	// Nested: a union whose members differ in size, an array of structs.
	amd64 := abi.MustLookup("amd64")
	inner := abi.Struct("in", abi.F("c", abi.Char), abi.F("i", abi.Int))
	outer := abi.Struct("out",
		abi.F("s", abi.Short),
		abi.F("u", abi.Union("", abi.F("c", abi.Char), abi.F("l", abi.Long))),
		abi.F("a", abi.Array(inner, 2)),
		abi.F("b", abi.Char))
	l := abi.LayoutOf(amd64, outer)
	// s 0-2 | u 8-16 (l covers it all) | a[0] c 16, i 20 | a[1] c 24, i 28 | b 32 | tail to 40
	assert.Equal(t, 40, l.Size)
	assert.Equal(t, []abi.Range{r(2, 6), r(17, 3), r(25, 3), r(33, 7)}, l.Padding())
	narrow := abi.LayoutOf(amd64, abi.Struct("n", abi.F("u", abi.Union("", abi.F("c", abi.Char), abi.F("s", abi.Short))), abi.F("i", abi.Int)))
	assert.Equal(t, []abi.Range{r(2, 2)}, narrow.Padding(), "union members overlap; the hole is after the widest")
}

func TestFieldPaths(t *testing.T) {
	arm := abi.MustLookup("arm")
	grid := abi.Struct("grid",
		abi.F("n", abi.Char),
		abi.F("cells", abi.Array(abi.Array(abi.Struct("cell", abi.F("a", abi.Short), abi.F("b", abi.LongLong)), 3), 2)))
	l := abi.LayoutOf(arm, grid)
	assert.Equal(t, 8+2*3*16, l.Size)
	off, fl, err := l.Field("cells[1][2].b")
	require.NoError(t, err)
	assert.Equal(t, 8+(1*3+2)*16+8, off)
	assert.Equal(t, 8, fl.Size)
	off, fl, err = l.Field("cells[1]")
	require.NoError(t, err)
	assert.Equal(t, 8+48, off)
	assert.Equal(t, 48, fl.Size)
	for _, bad := range []string{"cells[2][0].b", "cells[0][3]", "cells[0][0][0]", "cells[x]", "cells[1", "cells[1]x", "n[0]", "cells.c"} {
		_, _, err := l.Field(bad)
		assert.Error(t, err, bad)
	}
	assert.Panics(t, func() { l.Offset("nope") })

	// Every leaf path resolves back to itself.
	for _, lf := range l.Leaves() {
		off, fl, err := l.Field(lf.Path)
		require.NoError(t, err, lf.Path)
		assert.Equal(t, lf.Offset, off, lf.Path)
		assert.Equal(t, lf.Size, fl.Size, lf.Path)
	}
}

func TestTypeConstructorsPanicOnBadDescriptions(t *testing.T) {
	assert.NotPanics(t, func() { abi.Struct("empty") }, "GNU C's empty struct")
	assert.Panics(t, func() { abi.Struct("dup", abi.F("a", abi.Int), abi.F("a", abi.Int)) })
	assert.Panics(t, func() { abi.Struct("flex", abi.F("a", abi.FlexArray(abi.Int)), abi.F("b", abi.Int)) })
	assert.Panics(t, func() { abi.Union("flex", abi.F("a", abi.Int), abi.F("b", abi.FlexArray(abi.Int))) })
	assert.Panics(t, func() { abi.Array(abi.Int, -1) })
	assert.Panics(t, func() { abi.Struct("nil", abi.F("a", nil)) })
}
