package kern

import (
	"context"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// sysFunc runs one syscall whose arguments are already decoded.
type sysFunc func(c *call) sp.Result

// sysEntry is one served syscall; ext, when not zero, is the extension
// that must be on for it to be served (ENOSYS otherwise, as on the real
// rump kernel).
type sysEntry struct {
	fn  sysFunc
	ext Extensions
}

// Quick reports whether syscall num never blocks in this kernel, so a
// server may run it on the connection's reader (sp.QuickKernel). Only
// read and write wait (on a pipe: for data, or for room); every other
// call, ENOSYS ones included, finishes on its own, whatever it copies
// from or to the client.
func (k *Kernel) Quick(num netbsd.Sysno) bool {
	return num != netbsd.SYS_read && num != netbsd.SYS_write
}

var _ sp.QuickKernel = (*Kernel)(nil)

// sysTable lists every syscall kern serves; any other number is ENOSYS,
// as it is for exit, fork, execve, syscall 0 and __socket30 on a rump
// kernel without networking.
var sysTable = map[netbsd.Sysno]sysEntry{
	netbsd.SYS_read:         {fn: onFile(sysRead)},
	netbsd.SYS_write:        {fn: onFile(sysWrite)},
	netbsd.SYS_open:         {fn: sysOpen},
	netbsd.SYS_close:        {fn: sysClose},
	netbsd.SYS_link:         {fn: sysLink},
	netbsd.SYS_unlink:       {fn: sysUnlink},
	netbsd.SYS_chdir:        {fn: sysChdir},
	netbsd.SYS_fchdir:       {fn: onFile(sysFchdir)},
	netbsd.SYS_chmod:        {fn: sysChmod},
	netbsd.SYS_chown:        {fn: sysChown},
	netbsd.SYS_getpid:       {fn: sysGetpid},
	netbsd.SYS_unmount:      {fn: sysUnmount},
	netbsd.SYS_setuid:       {fn: sysSetuid},
	netbsd.SYS_getuid:       {fn: sysGetuid},
	netbsd.SYS_geteuid:      {fn: sysGeteuid},
	netbsd.SYS_access:       {fn: sysAccess},
	netbsd.SYS_sync:         {fn: sysSync},
	netbsd.SYS_kill:         {fn: sysKill, ext: ExtKill},
	netbsd.SYS_getppid:      {fn: sysGetppid},
	netbsd.SYS_dup:          {fn: sysDup},
	netbsd.SYS_pipe:         {fn: sysPipe},
	netbsd.SYS_getegid:      {fn: sysGetegid},
	netbsd.SYS_getgid:       {fn: sysGetgid},
	netbsd.SYS___getlogin:   {fn: sysGetlogin},
	netbsd.SYS___setlogin:   {fn: sysSetlogin},
	netbsd.SYS_ioctl:        {fn: sysIoctl},
	netbsd.SYS_symlink:      {fn: sysSymlink},
	netbsd.SYS_readlink:     {fn: sysReadlink},
	netbsd.SYS_umask:        {fn: sysUmask},
	netbsd.SYS_munmap:       {fn: sysMunmap, ext: ExtMmap},
	netbsd.SYS_getgroups:    {fn: sysGetgroups},
	netbsd.SYS_dup2:         {fn: sysDup2},
	netbsd.SYS_fcntl:        {fn: onFile(sysFcntl)},
	netbsd.SYS_fsync:        {fn: onFile(sysFsync)},
	netbsd.SYS_fchown:       {fn: onFile(sysFchown)},
	netbsd.SYS_fchmod:       {fn: onFile(sysFchmod)},
	netbsd.SYS_rename:       {fn: sysRename},
	netbsd.SYS_mkdir:        {fn: sysMkdir},
	netbsd.SYS_rmdir:        {fn: sysRmdir},
	netbsd.SYS_pread:        {fn: onFile(sysPread)},
	netbsd.SYS_pwrite:       {fn: onFile(sysPwrite)},
	netbsd.SYS_setgid:       {fn: sysSetgid},
	netbsd.SYS_setegid:      {fn: sysSetegid},
	netbsd.SYS_seteuid:      {fn: sysSeteuid},
	netbsd.SYS_getrlimit:    {fn: sysGetrlimit},
	netbsd.SYS_setrlimit:    {fn: sysSetrlimit},
	netbsd.SYS_mmap:         {fn: sysMmap, ext: ExtMmap},
	netbsd.SYS_lseek:        {fn: onFile(sysLseek)},
	netbsd.SYS_truncate:     {fn: sysTruncate},
	netbsd.SYS_ftruncate:    {fn: sysFtruncate},
	netbsd.SYS___sysctl:     {fn: sysSysctl},
	netbsd.SYS_lchmod:       {fn: sysLchmod},
	netbsd.SYS_lchown:       {fn: sysLchown},
	netbsd.SYS___getcwd:     {fn: sysGetcwd},
	netbsd.SYS___getdents30: {fn: onFile(sysGetdents)},
	netbsd.SYS___mount50:    {fn: sysMount},
	netbsd.SYS___utimes50:   {fn: sysUtimes},
	netbsd.SYS___futimes50:  {fn: onFile(sysFutimes)},
	netbsd.SYS___lutimes50:  {fn: sysLutimes},
	netbsd.SYS___stat50:     {fn: sysStat},
	netbsd.SYS___fstat50:    {fn: onFile(sysFstat)},
	netbsd.SYS___lstat50:    {fn: sysLstat},
	netbsd.SYS_pipe2:        {fn: sysPipe2},
}

// Syscall implements sp.Process. The argument struct is decoded in the
// ABI the request carries; bytes a short body lacks read as zero, as a C
// server reads its buffer's slack, and the kernel notes it in the log.
func (p *Process) Syscall(ctx context.Context, req *sp.SyscallRequest) sp.Result {
	ent, ok := sysTable[req.Num]
	if !ok || (ent.ext != 0 && p.k.cfg.Extensions&ent.ext == 0) || req.ABI == nil || req.Mem == nil {
		return fail(netbsd.ENOSYS)
	}
	// A call runs in the call the process's last syscall ran in, once
	// that one is done: no syscall keeps its call past its return.
	// Syscalls of one process that run at once (threads) take a fresh
	// call each.
	c := p.spare.Swap(nil)
	if c == nil {
		c = new(call)
	}
	defer p.giveBack(c)
	*c = call{p: p, k: p.k, fs: p.k.fs, ctx: ctx, req: req}
	args, missing, ok := req.AppendArgs(c.argv[:0])
	if !ok {
		return fail(netbsd.ENOSYS)
	}
	if missing > 0 {
		p.k.log.Debug("short argument struct; missing bytes read as zero",
			"pid", p.pid, "syscall", req.Num.String(), "missing", missing)
	}
	c.args = args
	return ent.fn(c)
}

// giveBack keeps c, whose syscall has returned, for the process's next
// one, holding neither the request nor its context.
func (p *Process) giveBack(c *call) {
	*c = call{}
	p.spare.Store(c)
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
	argv [8]uint64 // room for args: NetBSD's syscalls take at most 8
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
// at most, NUL included (ENAMETOOLONG beyond), as pathbuf_copyin does.
func (c *call) path(i int) (string, netbsd.Errno) { return c.str(c.arg(i), netbsd.PATH_MAX) }

// str copies in a NUL-terminated string of at most max bytes, NUL
// included. As the rump kernel's copyinstr: NULL is EFAULT without asking
// the client, and a reply without a NUL (an empty one included) is
// ENAMETOOLONG.
func (c *call) str(addr uint64, max int) (string, netbsd.Errno) {
	if addr == 0 {
		return "", netbsd.EFAULT
	}
	s, err := c.req.Mem.CopyInStr(c.ctx, addr, max)
	return s, sp.ErrnoOf(err)
}

// copyIn copies n bytes in from addr. As the rump kernel's copyin, NULL
// with a length is EFAULT without asking the client.
func (c *call) copyIn(addr uint64, n int) ([]byte, netbsd.Errno) {
	if n == 0 {
		return nil, 0
	}
	if addr == 0 {
		return nil, netbsd.EFAULT
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

// copyOut stores b at addr; NULL with a length is EFAULT, as the rump
// kernel's copyout answers. (A bad address past NULL cannot fail: the
// protocol's COPYOUT has no reply.)
func (c *call) copyOut(addr uint64, b []byte) netbsd.Errno {
	if len(b) == 0 {
		return 0
	}
	if addr == 0 {
		return netbsd.EFAULT
	}
	return sp.ErrnoOf(c.req.Mem.CopyOut(c.ctx, addr, b))
}

// cint encodes v as a C int of the client's ABI.
func (c *call) cint(v int32) []byte {
	b := make([]byte, c.abi().Int.Size)
	abi.PutUint(c.abi().ByteOrder(), b, len(b), uint64(uint32(v)))
	return b
}

// decodeCInt reads a C int of the client's ABI.
func (c *call) decodeCInt(b []byte) int32 {
	return int32(abi.Uint(c.abi().ByteOrder(), b, c.abi().Int.Size))
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
