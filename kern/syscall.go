package kern

import (
	"context"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// sysFunc runs one syscall whose arguments are already decoded.
type sysFunc func(c *call) sp.Result

// sysTable lists every syscall kern serves; any other number is ENOSYS.
// (exit, ioctl, fchown, fchmod and __socket30 are described by
// abi/netbsd but not served, as a rump kernel without them answers.)
var sysTable = map[netbsd.Sysno]sysFunc{
	netbsd.SYS_read:         onFile(sysRead),
	netbsd.SYS_write:        onFile(sysWrite),
	netbsd.SYS_open:         sysOpen,
	netbsd.SYS_close:        sysClose,
	netbsd.SYS_link:         sysLink,
	netbsd.SYS_unlink:       sysUnlink,
	netbsd.SYS_chdir:        sysChdir,
	netbsd.SYS_getpid:       sysGetpid,
	netbsd.SYS_getuid:       sysGetuid,
	netbsd.SYS_geteuid:      sysGetuid,
	netbsd.SYS_access:       sysAccess,
	netbsd.SYS_sync:         sysSync,
	netbsd.SYS_kill:         sysKill,
	netbsd.SYS_getppid:      sysGetppid,
	netbsd.SYS_dup:          sysDup,
	netbsd.SYS_pipe:         sysPipe,
	netbsd.SYS_getgid:       sysGetgid,
	netbsd.SYS_symlink:      sysSymlink,
	netbsd.SYS_readlink:     sysReadlink,
	netbsd.SYS_umask:        sysUmask,
	netbsd.SYS_munmap:       sysMunmap,
	netbsd.SYS_dup2:         sysDup2,
	netbsd.SYS_fcntl:        onFile(sysFcntl),
	netbsd.SYS_fsync:        onFile(sysFsync),
	netbsd.SYS_rename:       sysRename,
	netbsd.SYS_mkdir:        sysMkdir,
	netbsd.SYS_rmdir:        sysRmdir,
	netbsd.SYS_pread:        onFile(sysPread),
	netbsd.SYS_pwrite:       onFile(sysPwrite),
	netbsd.SYS_mmap:         sysMmap,
	netbsd.SYS_lseek:        onFile(sysLseek),
	netbsd.SYS_truncate:     sysTruncate,
	netbsd.SYS_ftruncate:    onFile(sysFtruncate),
	netbsd.SYS___sysctl:     sysSysctl,
	netbsd.SYS___getcwd:     sysGetcwd,
	netbsd.SYS___getdents30: onFile(sysGetdents),
	netbsd.SYS___stat50:     sysStat,
	netbsd.SYS___fstat50:    onFile(sysFstat),
	netbsd.SYS___lstat50:    sysLstat,
	netbsd.SYS_pipe2:        sysPipe2,
}

// Syscall implements sp.Process. The argument struct is decoded in the
// ABI the request carries; bytes a short body lacks read as zero, as a C
// server reads its buffer's slack, and the kernel notes it in the log.
func (p *Process) Syscall(ctx context.Context, req *sp.SyscallRequest) sp.Result {
	fn := sysTable[req.Num]
	if fn == nil || req.ABI == nil || req.Mem == nil {
		return fail(netbsd.ENOSYS)
	}
	args, missing, ok := req.Args()
	if !ok {
		return fail(netbsd.ENOSYS)
	}
	if missing > 0 {
		p.k.log.Debug("short argument struct; missing bytes read as zero",
			"pid", p.pid, "syscall", req.Num.String(), "missing", missing)
	}
	return fn(&call{p: p, k: p.k, fs: p.k.fs, ctx: ctx, req: req, args: args})
}

// call is one syscall in progress: the process, the decoded arguments and
// the client's memory.
type call struct {
	p    *Process
	k    *Kernel
	fs   *fileSystem
	ctx  context.Context
	req  *sp.SyscallRequest
	args []uint64
}

// arg returns argument i (PAD arguments excluded) as its bit pattern;
// signed arguments come sign-extended.
func (c *call) arg(i int) uint64 {
	if i < len(c.args) {
		return c.args[i]
	}
	return 0
}

// int returns argument i as a C int.
func (c *call) int(i int) int { return int(int32(c.arg(i))) }

// off returns argument i as an off_t.
func (c *call) off(i int) int64 { return int64(c.arg(i)) }

func (c *call) abi() *abi.Descriptor { return c.req.ABI }

// ssizeMax is SSIZE_MAX on the client's ABI: the largest count read and
// write accept.
func (c *call) ssizeMax() uint64 { return 1<<(8*c.abi().SizeT.Size-1) - 1 }

// count checks a read or write count (EINVAL past SSIZE_MAX) and bounds
// it by MaxIO, which makes large transfers short.
func (c *call) count(i int) (int, netbsd.Errno) {
	n := c.arg(i)
	if n > c.ssizeMax() {
		return 0, netbsd.EINVAL
	}
	return int(min(n, uint64(c.k.cfg.MaxIO))), 0
}

// path copies in the NUL-terminated path at argument i, PATH_MAX bytes
// at most, NUL included (ENAMETOOLONG beyond).
func (c *call) path(i int) (string, netbsd.Errno) {
	s, err := c.req.Mem.CopyInStr(c.ctx, c.arg(i), netbsd.PATH_MAX)
	return s, sp.ErrnoOf(err)
}

func (c *call) copyIn(addr uint64, n int) ([]byte, netbsd.Errno) {
	if n == 0 {
		return nil, 0
	}
	b, err := c.req.Mem.CopyIn(c.ctx, addr, n)
	if err != nil {
		return nil, sp.ErrnoOf(err)
	}
	if len(b) != n {
		return nil, netbsd.EFAULT
	}
	return b, 0
}

func (c *call) copyOut(addr uint64, b []byte) netbsd.Errno {
	if len(b) == 0 {
		return 0
	}
	return sp.ErrnoOf(c.req.Mem.CopyOut(c.ctx, addr, b))
}

// cint encodes v as a C int of the client's ABI.
func (c *call) cint(v int32) []byte {
	b := make([]byte, c.abi().Int.Size)
	abi.PutUint(c.abi().ByteOrder(), b, len(b), uint64(uint32(v)))
	return b
}

// file returns the open file at descriptor argument i; release it.
func (c *call) file(i int) (*file, netbsd.Errno) { return c.p.fds.get(c.int(i)) }

// onFile adapts a syscall whose argument 0 is a descriptor: a descriptor
// that is not open answers EBADF, and fn runs with its open file, which
// stays held until fn returns.
func onFile(fn func(c *call, f *file) sp.Result) sysFunc {
	return func(c *call) sp.Result {
		f, e := c.file(0)
		if e != 0 {
			return fail(e)
		}
		defer f.release()
		return fn(c, f)
	}
}

func fail(e netbsd.Errno) sp.Result { return sp.Result{Errno: e} }

// result is a one-value success, or the failure e.
func result(v uint64, e netbsd.Errno) sp.Result {
	if e != 0 {
		return fail(e)
	}
	return sp.Result{Retval: [2]uint64{v}}
}

// done is a success with no value, or the failure e.
func done(e netbsd.Errno) sp.Result { return result(0, e) }
