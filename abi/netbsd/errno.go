package netbsd

import "fmt"

// Errno is a NetBSD errno value (sys/errno.h). It is what a sysproxy
// server puts in rsp_sysresp.error and what the client hands to the
// application untranslated.
type Errno int32

// NetBSD errno values.
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	ESRCH        Errno = 3
	EINTR        Errno = 4
	EIO          Errno = 5
	ENXIO        Errno = 6
	E2BIG        Errno = 7
	ENOEXEC      Errno = 8
	EBADF        Errno = 9
	ECHILD       Errno = 10
	EDEADLK      Errno = 11
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	EXDEV        Errno = 18
	ENODEV       Errno = 19
	ENOTDIR      Errno = 20
	EISDIR       Errno = 21
	EINVAL       Errno = 22
	ENFILE       Errno = 23
	EMFILE       Errno = 24
	ENOTTY       Errno = 25
	EFBIG        Errno = 27
	ENOSPC       Errno = 28
	ESPIPE       Errno = 29
	EROFS        Errno = 30
	EMLINK       Errno = 31
	EPIPE        Errno = 32
	EDOM         Errno = 33
	ERANGE       Errno = 34
	EAGAIN       Errno = 35
	EINPROGRESS  Errno = 36
	ENOTSOCK     Errno = 38
	EOPNOTSUPP   Errno = 45
	EAFNOSUPPORT Errno = 47
	ENOTCONN     Errno = 57
	ELOOP        Errno = 62
	ENAMETOOLONG Errno = 63
	ENOTEMPTY    Errno = 66
	ENOSYS       Errno = 78
	EFTYPE       Errno = 79
	EAUTH        Errno = 80
	EOVERFLOW    Errno = 84
)

var errnoNames = map[Errno]string{
	EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
	ENXIO: "ENXIO", E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD",
	EDEADLK: "EDEADLK", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY",
	EEXIST: "EEXIST", EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR",
	EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY", EFBIG: "EFBIG",
	ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS", EMLINK: "EMLINK", EPIPE: "EPIPE",
	EDOM: "EDOM", ERANGE: "ERANGE", EAGAIN: "EAGAIN", EINPROGRESS: "EINPROGRESS",
	ENOTSOCK: "ENOTSOCK", EOPNOTSUPP: "EOPNOTSUPP", EAFNOSUPPORT: "EAFNOSUPPORT",
	ENOTCONN: "ENOTCONN", ELOOP: "ELOOP", ENAMETOOLONG: "ENAMETOOLONG",
	ENOTEMPTY: "ENOTEMPTY", ENOSYS: "ENOSYS", EFTYPE: "EFTYPE", EAUTH: "EAUTH", EOVERFLOW: "EOVERFLOW",
}

var errnoText = map[Errno]string{
	EPERM: "operation not permitted", ENOENT: "no such file or directory",
	ESRCH: "no such process", EINTR: "interrupted system call", EIO: "input/output error",
	EBADF: "bad file descriptor", ENOMEM: "cannot allocate memory", EACCES: "permission denied",
	EFAULT: "bad address", EBUSY: "device busy", EEXIST: "file exists",
	ENOTDIR: "not a directory", EISDIR: "is a directory", EINVAL: "invalid argument",
	EMFILE: "too many open files", EFBIG: "file too large", ENOSPC: "no space left on device",
	ESPIPE: "illegal seek", EPIPE: "broken pipe", ERANGE: "result too large",
	EAGAIN: "resource temporarily unavailable", EOPNOTSUPP: "operation not supported",
	ENOTCONN: "socket is not connected", ELOOP: "too many levels of symbolic links",
	ENAMETOOLONG: "file name too long", ENOTEMPTY: "directory not empty",
	ENOSYS: "function not implemented", EFTYPE: "inappropriate file type or format", EAUTH: "authentication error",
}

// String returns the C name, such as "ENOENT".
func (e Errno) String() string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("Errno(%d)", int32(e))
}

// Error returns the name and a short description.
func (e Errno) Error() string {
	if t, ok := errnoText[e]; ok {
		return e.String() + ": " + t
	}
	return e.String()
}
