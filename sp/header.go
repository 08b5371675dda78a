package sp

import (
	"encoding/binary"
	"fmt"

	"github.com/rumpsprig/sprig/abi"
)

// Header is a decoded frame header. On the wire it is 24 bytes in the
// sender's byte order: len, reqno (uint64 each), class, type (uint16 each)
// and one uint32 whose meaning depends on the frame (sysnum, error code,
// handshake kind or signal number).
type Header struct {
	Len   uint64 // whole frame, header included
	Reqno uint64
	Class Class
	Type  Type
	U     uint32
}

// BodyLen returns the number of body bytes the header announces.
func (h Header) BodyLen() uint64 { return h.Len - HeaderSize }

// encode writes h into b[:HeaderSize], little-endian or big-endian.
func (h Header) encode(le bool, b []byte) {
	_ = b[HeaderSize-1]
	if le {
		le := binary.LittleEndian
		le.PutUint64(b[offLen:], h.Len)
		le.PutUint64(b[offReqno:], h.Reqno)
		le.PutUint16(b[offClass:], uint16(h.Class))
		le.PutUint16(b[offType:], uint16(h.Type))
		le.PutUint32(b[offU:], h.U)
		return
	}
	be := binary.BigEndian
	be.PutUint64(b[offLen:], h.Len)
	be.PutUint64(b[offReqno:], h.Reqno)
	be.PutUint16(b[offClass:], uint16(h.Class))
	be.PutUint16(b[offType:], uint16(h.Type))
	be.PutUint32(b[offU:], h.U)
}

// parseHeader reads a header from b[:HeaderSize] in order o.
func parseHeader(o abi.ByteOrder, b []byte) Header { return decodeHeader(littleEndian(o), b) }

// decodeHeader reads a header from b[:HeaderSize], little-endian or
// big-endian.
func decodeHeader(le bool, b []byte) Header {
	_ = b[HeaderSize-1]
	if le {
		le := binary.LittleEndian
		return Header{Len: le.Uint64(b[offLen:]), Reqno: le.Uint64(b[offReqno:]),
			Class: Class(le.Uint16(b[offClass:])), Type: Type(le.Uint16(b[offType:])), U: le.Uint32(b[offU:])}
	}
	be := binary.BigEndian
	return Header{Len: be.Uint64(b[offLen:]), Reqno: be.Uint64(b[offReqno:]),
		Class: Class(be.Uint16(b[offClass:])), Type: Type(be.Uint16(b[offType:])), U: be.Uint32(b[offU:])}
}

// littleEndian reports whether o stores the least significant byte
// first. Headers are coded with encoding/binary's own orders, not
// through the interface: calls through it are not inlined (in Go
// compiled to wasm a header cost a dozen calls), and b escaping through
// one cost an allocation every frame. Framers ask once, not per header:
// comparing interfaces is a call too.
func littleEndian(o abi.ByteOrder) bool {
	if o == abi.ByteOrder(binary.LittleEndian) {
		return true
	}
	return o != abi.ByteOrder(binary.BigEndian) && o.Uint16([]byte{1, 0}) == 1
}

func (h Header) String() string {
	s := fmt.Sprintf("%s %s reqno=%d len=%d", h.Class, h.Type, h.Reqno, h.Len)
	switch {
	case h.Class == ClassError:
		s += fmt.Sprintf(" error=%d", h.U)
	case h.Class == ClassReq && h.Type == TypeHandshake:
		s += " kind=" + HandshakeKind(h.U).String()
	case h.U != 0:
		s += fmt.Sprintf(" u=%d", h.U)
	}
	return s
}
