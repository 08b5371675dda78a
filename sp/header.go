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

// put writes h into b[:HeaderSize] in order o.
func (h Header) put(o abi.ByteOrder, b []byte) {
	o.PutUint64(b[offLen:], h.Len)
	o.PutUint64(b[offReqno:], h.Reqno)
	o.PutUint16(b[offClass:], uint16(h.Class))
	o.PutUint16(b[offType:], uint16(h.Type))
	o.PutUint32(b[offU:], h.U)
}

// parseHeader reads a header from b[:HeaderSize] in order o.
func parseHeader(o abi.ByteOrder, b []byte) Header {
	// Decoded with encoding/binary's own orders, not through the
	// interface: b escaping through an interface call cost an allocation
	// every frame.
	if o != abi.ByteOrder(binary.BigEndian) && (o == abi.ByteOrder(binary.LittleEndian) || o.Uint16([]byte{1, 0}) == 1) {
		le := binary.LittleEndian
		return Header{Len: le.Uint64(b[offLen:]), Reqno: le.Uint64(b[offReqno:]),
			Class: Class(le.Uint16(b[offClass:])), Type: Type(le.Uint16(b[offType:])), U: le.Uint32(b[offU:])}
	}
	be := binary.BigEndian
	return Header{Len: be.Uint64(b[offLen:]), Reqno: be.Uint64(b[offReqno:]),
		Class: Class(be.Uint16(b[offClass:])), Type: Type(be.Uint16(b[offType:])), U: be.Uint32(b[offU:])}
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
