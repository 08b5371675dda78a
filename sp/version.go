package sp

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// Version is a sysproxy protocol version, the "0.4" of a banner.
type Version struct{ Major, Minor int }

// The two protocol eras sprig speaks.
var (
	// Version01 is the January 2011 protocol: empty GUEST body, raw errno
	// values in ERROR frames, no EXEC handshake.
	Version01 = Version{0, 1}
	// Version04 is the protocol from 2013 on: program name in the GUEST
	// body, an error enum in ERROR frames, EXEC.
	Version04 = Version{0, 4}
)

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// HasEnumErrors reports whether ERROR frames carry the 0.4 enum rather
// than errno values.
func (v Version) HasEnumErrors() bool { return v.Major > 0 || v.Minor >= 4 }

// HasExec reports whether the EXEC handshake exists.
func (v Version) HasExec() bool { return v.Major > 0 || v.Minor >= 4 }

// HasGuestName reports whether the GUEST handshake carries a program name.
func (v Version) HasGuestName() bool { return v.Major > 0 || v.Minor >= 4 }

// wireError returns what an ERROR frame carries for code in this era.
func (v Version) wireError(code ErrorCode) uint32 {
	if v.HasEnumErrors() {
		return uint32(code)
	}
	if code == ErrorAuth {
		return uint32(netbsd.EAUTH) // 0.1 answers a missing handshake with EAUTH
	}
	return uint32(code.Errno())
}

// Errno maps an error code to the errno a C client hands the application.
func (e ErrorCode) Errno() netbsd.Errno {
	switch e {
	case ErrorTryAgain:
		return netbsd.EAGAIN
	case ErrorAuth:
		return netbsd.EPERM
	case ErrorInvalidPrefork:
		return netbsd.ESRCH
	case ErrorRforkFailed:
		return netbsd.EIO
	case ErrorInExec:
		return netbsd.EBUSY
	case ErrorNoMem:
		return netbsd.ENOMEM
	case ErrorMalformed:
		return netbsd.EINVAL
	}
	return 0
}

// errnoOfWire turns the u word of a received ERROR frame into an errno.
func (v Version) errnoOfWire(u uint32) netbsd.Errno {
	if v.HasEnumErrors() {
		return ErrorCode(u).Errno()
	}
	return netbsd.Errno(u)
}
