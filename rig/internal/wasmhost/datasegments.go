package wasmhost

import (
	"encoding/binary"
	"slices"
	"sort"
)

// Go's linker splits a program's initialized data into a segment per run
// of bytes between zeros: the scenario guest has about 59,000 data
// segments for 1.5 MB of data. wazero evaluates and copies each one on
// every instantiation, which cost about 3 ms of CPU per guest instance,
// a quarter of a one-scenario matrix cell. coalesceData rewrites the
// module so that segments separated by at most maxDataGap zero bytes are
// one, filling the gap with the zeros the memory would have held there;
// the scenario guest then has four.
//
// The rewrite keeps every byte of memory the module starts with. It
// merges only active segments of memory 0 at i32.const offsets, and only
// when the gap between two neighbours is not written by an earlier
// segment (later segments overwrite the zeros as they overwrote the
// memory). A module it does not understand, or one with a data count
// section (whose code may name segments by index in memory.init and
// data.drop), is returned unchanged.

// maxDataGap is the longest run of zeros merged into a segment: a page,
// which the zeros' neighbours mostly touch anyway.
const maxDataGap = 4096

const (
	sectionData      = 11
	sectionDataCount = 12
	opI32Const       = 0x41
	opEnd            = 0x0b
)

// dataSegment is an active segment of memory 0.
type dataSegment struct {
	offset uint32
	init   []byte
}

func (s dataSegment) end() uint64 { return uint64(s.offset) + uint64(len(s.init)) }

// coalesceData returns wasm with its neighbouring data segments merged,
// or wasm itself when there is nothing to merge or the module is not one
// it understands.
func coalesceData(wasm []byte) []byte {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return wasm
	}
	var dataHead, dataStart, dataEnd int // the data section, and its payload
	for p := 8; p < len(wasm); {
		id := wasm[p]
		size, n := binary.Uvarint(wasm[p+1:])
		if n <= 0 || size > uint64(len(wasm)-p-1-n) {
			return wasm
		}
		payload := p + 1 + n
		switch id {
		case sectionDataCount:
			return wasm
		case sectionData:
			dataHead, dataStart, dataEnd = p, payload, payload+int(size)
		}
		p = payload + int(size)
	}
	if dataStart == 0 {
		return wasm
	}
	segs, ok := parseDataSegments(wasm[dataStart:dataEnd])
	if !ok {
		return wasm
	}
	merged := mergeDataSegments(segs)
	if len(merged) == len(segs) {
		return wasm
	}
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(merged)))
	for _, s := range merged {
		body = append(body, 0, opI32Const)
		body = appendSLEB128(body, int32(s.offset))
		body = append(body, opEnd)
		body = binary.AppendUvarint(body, uint64(len(s.init)))
		body = append(body, s.init...)
	}
	out := make([]byte, 0, dataHead+len(body)+6+len(wasm)-dataEnd)
	out = append(out, wasm[:dataHead]...)
	out = append(out, sectionData)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	return append(out, wasm[dataEnd:]...)
}

// readSLEB128 reads the signed LEB128 number of at most 32 bits at the
// start of b (encoding/binary's Varint is zig-zag, not LEB128).
func readSLEB128(b []byte) (v int32, n int) {
	var x int64
	var shift uint
	for n < len(b) && n < 5 {
		c := b[n]
		n++
		x |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if c&0x40 != 0 {
				x |= -1 << shift
			}
			if x < -1<<31 || x >= 1<<31 {
				return 0, 0
			}
			return int32(x), n
		}
	}
	return 0, 0
}

// appendSLEB128 appends v in signed LEB128.
func appendSLEB128(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// parseDataSegments reads a data section's segments; ok is false for any
// segment that is not an active one of memory 0 at an i32.const offset.
func parseDataSegments(b []byte) (segs []dataSegment, ok bool) {
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return nil, false
	}
	b = b[n:]
	segs = make([]dataSegment, 0, count)
	for range count {
		if len(b) < 2 || b[0] != 0 || b[1] != opI32Const {
			return nil, false
		}
		off, n := readSLEB128(b[2:])
		if n == 0 {
			return nil, false
		}
		b = b[2+n:]
		if len(b) < 1 || b[0] != opEnd {
			return nil, false
		}
		size, n := binary.Uvarint(b[1:])
		if n <= 0 || size > uint64(len(b)-1-n) {
			return nil, false
		}
		b = b[1+n:]
		segs = append(segs, dataSegment{offset: uint32(off), init: b[:size:size]})
		b = b[size:]
	}
	return segs, len(b) == 0
}

// mergeDataSegments merges each segment into the one before it when the
// zeros between them are few and no earlier segment writes there.
func mergeDataSegments(segs []dataSegment) []dataSegment {
	var out []dataSegment
	owned := false        // out's last init is a buffer of its own, not the module's bytes
	var written intervals // what the segments so far write (zeros included)
	for _, s := range segs {
		if k := len(out) - 1; k >= 0 {
			last := &out[k]
			gapStart, gapEnd := last.end(), uint64(s.offset)
			if gapEnd >= gapStart && gapEnd-gapStart <= maxDataGap && !written.overlaps(gapStart, gapEnd) {
				if !owned {
					last.init, owned = append([]byte(nil), last.init...), true
				}
				last.init = append(last.init, make([]byte, gapEnd-gapStart)...)
				last.init = append(last.init, s.init...)
				written.add(gapStart, s.end())
				continue
			}
		}
		out = append(out, s)
		owned = false
		written.add(uint64(s.offset), s.end())
	}
	return out
}

// intervals is a set of half-open byte ranges, kept sorted and disjoint.
type intervals struct{ r [][2]uint64 }

// add adds [lo, hi).
func (v *intervals) add(lo, hi uint64) {
	if lo >= hi {
		return
	}
	// v.r[i] is the first range ending at or after lo; absorb every range
	// that touches [lo, hi).
	i := sort.Search(len(v.r), func(k int) bool { return v.r[k][1] >= lo })
	j := i
	for j < len(v.r) && v.r[j][0] <= hi {
		lo, hi = min(lo, v.r[j][0]), max(hi, v.r[j][1])
		j++
	}
	v.r = slices.Replace(v.r, i, j, [2]uint64{lo, hi})
}

// overlaps tells whether some range meets [lo, hi).
func (v *intervals) overlaps(lo, hi uint64) bool {
	if lo >= hi {
		return false
	}
	i := sort.Search(len(v.r), func(k int) bool { return v.r[k][1] > lo })
	return i < len(v.r) && v.r[i][0] < hi
}
