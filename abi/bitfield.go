package abi

// Bit-fields are stored in memory bit order: bit 0 of an aggregate is the
// least significant bit of its first byte on little-endian machines and
// the most significant one on big-endian machines, and a field's bits run
// on from there across bytes. That is how GCC allocates them on every
// supported ABI, so a field reads as an integer of the ABI's byte order
// that spans the bytes it touches.

// putBits stores the low width bits of v at bit position pos of b. A
// field wider than 64 bits (an __int128 one) gets ext in every bit above
// the 64th: the sign of a signed value.
func putBits(b []byte, pos, width int, v uint64, big bool) {
	putBitsExt(b, pos, width, v, false, big)
}

func putBitsExt(b []byte, pos, width int, v uint64, ext, big bool) {
	for k := 0; k < width; k++ {
		j := pos + k
		vk := k // the value bit that goes to memory bit j
		mask := byte(1) << uint(j%8)
		if big {
			vk = width - 1 - k
			mask = 0x80 >> uint(j%8)
		}
		bit := ext
		if vk < 64 {
			bit = v>>uint(vk)&1 != 0
		}
		if bit {
			b[j/8] |= mask
		} else {
			b[j/8] &^= mask
		}
	}
}

// getBits reads width bits at bit position pos of b as an unsigned
// value; of a field wider than 64 bits only the low 64 are returned.
func getBits(b []byte, pos, width int, big bool) uint64 {
	var v uint64
	for k := 0; k < width; k++ {
		j := pos + k
		vk := k
		mask := byte(1) << uint(j%8)
		if big {
			vk = width - 1 - k
			mask = 0x80 >> uint(j%8)
		}
		if vk < 64 && b[j/8]&mask != 0 {
			v |= 1 << uint(vk)
		}
	}
	return v
}

// signExtendBits interprets the low width bits of v as two's complement.
func signExtendBits(v uint64, width int) int64 {
	if width >= 64 {
		return int64(v)
	}
	shift := uint(64 - width)
	return int64(v<<shift) >> shift
}

// fitsBits reports whether v fits a width-bit field, as a signed value
// when signed and as either when not (a C conversion without loss).
func fitsBits(v int64, width int, signed bool) bool {
	if width >= 64 {
		return true
	}
	lim := int64(1) << uint(width-1)
	if v >= -lim && v < lim {
		return true
	}
	return !signed && v >= 0 && uint64(v)>>uint(width) == 0
}
