package proxy

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// ERROR frames carry a 0.4 enum (sp.ErrorCode) or, in 0.1, an errno. The
// proxy speaks each side's era, so a code crossing from one era to the
// other is converted; within one era it passes as it is.

// errorFor returns what an ERROR frame of era v carries for code.
func errorFor(v sp.Version, code sp.ErrorCode) uint32 {
	if v.HasEnumErrors() {
		return uint32(code)
	}
	if code == sp.ErrorAuth {
		return uint32(netbsd.EAUTH) // 0.1 answers a missing handshake with EAUTH
	}
	if e := code.Errno(); e != 0 {
		return uint32(e)
	}
	return uint32(netbsd.EINVAL)
}

// convertError converts an ERROR frame's code from era from to era to.
func convertError(from, to sp.Version, u uint32) uint32 {
	if from.HasEnumErrors() == to.HasEnumErrors() {
		return u
	}
	if from.HasEnumErrors() {
		return errorFor(to, sp.ErrorCode(u))
	}
	return uint32(enumOfErrno(netbsd.Errno(u)))
}

// enumOfErrno is the 0.4 code a 0.1 errno stands for: the inverse of
// sp.ErrorCode.Errno, with EAUTH as AUTH and anything else malformed.
func enumOfErrno(e netbsd.Errno) sp.ErrorCode {
	switch e {
	case netbsd.EAGAIN:
		return sp.ErrorTryAgain
	case netbsd.EAUTH, netbsd.EPERM:
		return sp.ErrorAuth
	case netbsd.ESRCH:
		return sp.ErrorInvalidPrefork
	case netbsd.EIO:
		return sp.ErrorRforkFailed
	case netbsd.EBUSY:
		return sp.ErrorInExec
	case netbsd.ENOMEM:
		return sp.ErrorNoMem
	}
	return sp.ErrorMalformed
}
