package sp

import "fmt"

// HeaderSize is the size of every frame header on every ABI.
const HeaderSize = 24

// Header field sizes; they add up to HeaderSize.
const (
	sizeOfLen   = 8
	sizeOfReqno = 8
	sizeOfClass = 2
	sizeOfType  = 2
	sizeOfU     = 4

	offLen   = 0
	offReqno = offLen + sizeOfLen
	offClass = offReqno + sizeOfReqno
	offType  = offClass + sizeOfClass
	offU     = offType + sizeOfType
)

// Class says whether a frame is a request, a response or an error.
type Class uint16

// Frame classes.
const (
	ClassReq   Class = 0
	ClassResp  Class = 1
	ClassError Class = 2
)

var classNames = [...]string{ClassReq: "REQ", ClassResp: "RESP", ClassError: "ERROR"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", uint16(c))
}

// Type is the message type of a frame.
type Type uint16

// Frame types.
const (
	TypeHandshake  Type = 0
	TypeSyscall    Type = 1
	TypeCopyIn     Type = 2
	TypeCopyInStr  Type = 3
	TypeCopyOut    Type = 4
	TypeCopyOutStr Type = 5
	TypeAnonMmap   Type = 6
	TypePrefork    Type = 7
	TypeRaise      Type = 8

	// TypePreload is sprig's extension, never sent to a C server: a
	// client's REQ/PRELOAD carries the bytes its next SYSCALL (same
	// reqno, same write) will copy in, so that the server asks for none
	// of them (see the package doc, "Preloaded copyin"). Its number lies
	// far from NetBSD's, which count up from 0.
	TypePreload Type = 0x7370
)

var typeNames = [...]string{
	TypeHandshake: "HANDSHAKE", TypeSyscall: "SYSCALL", TypeCopyIn: "COPYIN",
	TypeCopyInStr: "COPYINSTR", TypeCopyOut: "COPYOUT", TypeCopyOutStr: "COPYOUTSTR",
	TypeAnonMmap: "ANONMMAP", TypePrefork: "PREFORK", TypeRaise: "RAISE",
}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	if t == TypePreload {
		return "PRELOAD"
	}
	return fmt.Sprintf("Type(%d)", uint16(t))
}

// HandshakeKind is the header word u of a HANDSHAKE request.
type HandshakeKind uint32

// Handshake kinds. EXEC exists from protocol 0.4 on.
const (
	HandshakeGuest HandshakeKind = 0
	HandshakeAuth  HandshakeKind = 1
	HandshakeFork  HandshakeKind = 2
	HandshakeExec  HandshakeKind = 3
)

var handshakeNames = [...]string{
	HandshakeGuest: "GUEST", HandshakeAuth: "AUTH", HandshakeFork: "FORK", HandshakeExec: "EXEC",
}

func (k HandshakeKind) String() string {
	if int(k) < len(handshakeNames) {
		return handshakeNames[k]
	}
	return fmt.Sprintf("HandshakeKind(%d)", uint32(k))
}

// ErrorCode is the 0.4 protocol's error enum carried in ERROR frames. A 0.1
// peer carries raw NetBSD errno values there instead; see Version.
type ErrorCode uint32

// Protocol 0.4 error codes.
const (
	ErrorNone           ErrorCode = 0
	ErrorTryAgain       ErrorCode = 1
	ErrorAuth           ErrorCode = 2
	ErrorInvalidPrefork ErrorCode = 3
	ErrorRforkFailed    ErrorCode = 4
	ErrorInExec         ErrorCode = 5
	ErrorNoMem          ErrorCode = 6
	ErrorMalformed      ErrorCode = 7
)

var errorCodeNames = [...]string{
	ErrorNone: "NONE", ErrorTryAgain: "TRYAGAIN", ErrorAuth: "AUTH",
	ErrorInvalidPrefork: "INVALID_PREFORK", ErrorRforkFailed: "RFORK_FAILED",
	ErrorInExec: "INEXEC", ErrorNoMem: "NOMEM", ErrorMalformed: "MALFORMED_REQUEST",
}

func (e ErrorCode) String() string {
	if int(e) < len(errorCodeNames) {
		return errorCodeNames[e]
	}
	return fmt.Sprintf("ErrorCode(%d)", uint32(e))
}
