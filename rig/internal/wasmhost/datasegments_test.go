package wasmhost

import (
	"context"
	"encoding/binary"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
)

// seg is a data segment of a test module: active at offset, or passive.
type seg struct {
	offset  int32
	init    string
	passive bool
}

// testModule is a module with one page of memory, exported as "memory",
// the given data segments and, when dataCount, a data count section.
func testModule(dataCount bool, segs ...seg) []byte {
	section := func(id byte, payload []byte) []byte {
		return append(binary.AppendUvarint([]byte{id}, uint64(len(payload))), payload...)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(5, []byte{1, 0, 1})...) // one memory, at least one page
	m = append(m, section(7, append([]byte{1, 6}, "memory\x02\x00"...))...)
	if dataCount {
		m = append(m, section(sectionDataCount, binary.AppendUvarint(nil, uint64(len(segs))))...)
	}
	data := binary.AppendUvarint(nil, uint64(len(segs)))
	for _, s := range segs {
		if s.passive {
			data = append(data, 1)
		} else {
			data = append(data, 0, opI32Const)
			data = appendSLEB128(data, s.offset)
			data = append(data, opEnd)
		}
		data = binary.AppendUvarint(data, uint64(len(s.init)))
		data = append(data, s.init...)
	}
	return append(m, section(sectionData, data)...)
}

// initialMemory instantiates wasm with wazero and returns its memory.
func initialMemory(t *testing.T, wasm []byte) []byte {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, wasm)
	require.NoError(t, err)
	mem := mod.ExportedMemory("memory")
	b, ok := mem.Read(0, mem.Size())
	require.True(t, ok)
	return append([]byte(nil), b...)
}

func dataSegmentCount(t *testing.T, wasm []byte) int {
	t.Helper()
	for p := 8; p < len(wasm); {
		size, n := binary.Uvarint(wasm[p+1:])
		require.Positive(t, n)
		if wasm[p] == sectionData {
			segs, ok := parseDataSegments(wasm[p+1+n : p+1+n+int(size)])
			require.True(t, ok)
			return len(segs)
		}
		p += 1 + n + int(size)
	}
	return 0
}

// Merging data segments must leave the memory a module starts with as it
// was, byte for byte, as wazero itself lays it out.
func TestCoalescedDataSegmentsLeaveTheMemoryAsItWas(t *testing.T) {
	for _, tc := range []struct {
		name  string
		segs  []seg
		after int // segments left
	}{
		{"neighbours", []seg{{0, "ab", false}, {4, "cd", false}, {6, "ef", false}}, 1},
		{"an earlier segment writes in the gap", []seg{{10, "XY", false}, {0, "ab", false}, {20, "cd", false}}, 3},
		{"a later segment overwrites merged bytes", []seg{{0, "abcd", false}, {8, "ef", false}, {2, "ZZ", false}, {9, "Q", false}}, 3},
		{"a gap longer than a page", []seg{{0, "a", false}, {maxDataGap + 2, "b", false}}, 2},
		{"a gap of a page", []seg{{0, "a", false}, {maxDataGap + 1, "b", false}}, 1},
		{"out of order", []seg{{100, "late", false}, {50, "early", false}, {60, "x", false}}, 2},
		{"zero-length segments", []seg{{0, "", false}, {3, "abc", false}, {10, "", false}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wasm := testModule(false, tc.segs...)
			out := coalesceData(wasm)
			assert.Equal(t, tc.after, dataSegmentCount(t, out))
			assert.Equal(t, initialMemory(t, wasm), initialMemory(t, out))
		})
	}
}

// A module whose code may name segments by index, or one with segments
// the rewrite does not understand, is left alone.
func TestCoalescingLeavesModulesItCannotRewrite(t *testing.T) {
	for name, wasm := range map[string][]byte{
		"a data count section": testModule(true, seg{0, "ab", false}, seg{4, "cd", false}),
		"a passive segment":    testModule(false, seg{0, "ab", false}, seg{0, "zz", true}, seg{4, "cd", false}),
		"nothing to merge":     testModule(false, seg{0, "ab", false}),
		"not wasm":             []byte("\x7fELF and more"),
		"truncated":            testModule(false, seg{0, "ab", false}, seg{4, "cd", false})[:30],
	} {
		out := coalesceData(wasm)
		assert.Equal(t, wasm, out, name)
	}
}

func TestSLEB128RoundTrips(t *testing.T) {
	for _, v := range []int32{0, 1, 63, 64, -1, -64, -65, 0x12345, 1<<31 - 1, -1 << 31} {
		b := appendSLEB128(nil, v)
		got, n := readSLEB128(b)
		assert.Equal(t, len(b), n, "%d", v)
		assert.Equal(t, v, got)
	}
	_, n := readSLEB128([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	assert.Zero(t, n, "more than 32 bits")
}

// The scenario guest goes from tens of thousands of segments to a few,
// and the bytes they write stay the same.
func TestTheGuestsDataSegmentsCoalesce(t *testing.T) {
	wasm, err := os.ReadFile("../../../guest/scenarios.wasm")
	require.NoError(t, err)
	out := coalesceData(wasm)
	before, after := dataSegmentCount(t, wasm), dataSegmentCount(t, out)
	t.Logf("data segments: %d before, %d after", before, after)
	assert.Greater(t, before, 10000)
	assert.Less(t, after, 10)
	assert.Equal(t, applySegments(t, wasm), applySegments(t, out))
}

// applySegments writes wasm's data segments, in order, into zeroed memory.
func applySegments(t *testing.T, wasm []byte) []byte {
	t.Helper()
	var mem []byte
	for p := 8; p < len(wasm); {
		size, n := binary.Uvarint(wasm[p+1:])
		if wasm[p] == sectionData {
			segs, ok := parseDataSegments(wasm[p+1+n : p+1+n+int(size)])
			require.True(t, ok)
			for _, s := range segs {
				if end := int(s.end()); end > len(mem) {
					mem = append(mem, make([]byte, end-len(mem))...)
				}
				copy(mem[s.offset:], s.init)
			}
		}
		p += 1 + n + int(size)
	}
	return mem
}

// A module whose segments run past its memory fails to instantiate after
// the rewrite as before.
func TestACoalescedModuleWithASegmentOutOfBoundsStillFails(t *testing.T) {
	wasm := testModule(false, seg{0, "ab", false}, seg{4, "cd", false}, seg{65535, "xy", false})
	out := coalesceData(wasm)
	require.NotEqual(t, wasm, out, "the first two merge")
	ctx := context.Background()
	for _, m := range [][]byte{wasm, out} {
		rt := wazero.NewRuntime(ctx)
		_, err := rt.Instantiate(ctx, m)
		assert.Error(t, err)
		rt.Close(ctx)
	}
}
