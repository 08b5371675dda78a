package sptest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// Kernel is a tiny sp.Kernel for protocol tests. Each process has one
// in-memory "file" per path and a flat fd table; only these syscalls
// exist: getpid, getppid, open, close, read, write, lseek, __fstat50, mmap
// (MAP_ANON via ANONMMAP), kill (RAISE to the target's client) and pipe
// (two fake fds). Every other number answers ENOSYS, as the real server
// does. Syscall number NullSyscall returns at once (benchmarks).
type Kernel struct {
	mu      sync.Mutex
	nextPid int
	procs   map[int]*Process
	files   map[string][]byte
	exits   atomic.Int64
	// Block, when set, makes syscall BlockSyscall wait on it (for tests
	// of cancellation and saturation).
	Block chan struct{}
}

// NullSyscall returns {0, 0} at once: sync(2), which takes no arguments.
const NullSyscall = netbsd.SYS_sync

// BlockSyscall waits for Kernel.Block or cancellation: fsync(2).
const BlockSyscall = netbsd.SYS_fsync

// MaxFileSize bounds the in-memory files: a write that would end beyond it
// fails with EFBIG rather than allocating whatever offset a client sought.
const MaxFileSize = 64 << 20

// NewKernel returns an empty kernel; the first client gets pid 2.
func NewKernel() *Kernel {
	return &Kernel{nextPid: 2, procs: map[int]*Process{}, files: map[string][]byte{}}
}

// Exits returns how many processes have exited.
func (k *Kernel) Exits() int { return int(k.exits.Load()) }

// Procs returns how many processes are alive.
func (k *Kernel) Procs() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.procs)
}

// NewProcess implements sp.Kernel.
func (k *Kernel) NewProcess(ctx context.Context, c sp.ClientInfo) (sp.Process, error) {
	return k.spawn(1, c, map[int]*openFile{}), nil
}

func (k *Kernel) spawn(ppid int, c sp.ClientInfo, fds map[int]*openFile) *Process {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := &Process{k: k, pid: k.nextPid, ppid: ppid, client: c, fds: fds, abi: c.ABI}
	k.nextPid++
	k.procs[p.pid] = p
	return p
}

// Process is a process of Kernel.
type Process struct {
	k      *Kernel
	pid    int
	ppid   int
	mu     sync.Mutex
	client sp.ClientInfo
	abi    *abi.Descriptor
	name   string
	fds    map[int]*openFile
	exited bool
}

type openFile struct {
	path string
	off  int64 // guarded by Kernel.mu
}

// Pid implements sp.Process.
func (p *Process) Pid() int { return p.pid }

// Name returns the name set by exec.
func (p *Process) Name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.name
}

// Fork implements sp.Process: the child gets a copy of the fd table.
func (p *Process) Fork(ctx context.Context) (sp.Process, error) {
	p.mu.Lock()
	fds := make(map[int]*openFile, len(p.fds))
	p.k.mu.Lock() // guards the offsets
	for n, f := range p.fds {
		c := *f
		fds[n] = &c
	}
	p.k.mu.Unlock()
	c := p.client
	c.Signal = nil
	p.mu.Unlock()
	return p.k.spawn(p.pid, c, fds), nil
}

// Attach implements sp.Process; the preforked process itself serves.
func (p *Process) Attach(c sp.ClientInfo) (sp.Process, error) {
	p.mu.Lock()
	p.client = c
	p.mu.Unlock()
	return p, nil
}

// Exec implements sp.Process.
func (p *Process) Exec(ctx context.Context, name string) error {
	p.mu.Lock()
	p.name = name
	p.mu.Unlock()
	return nil
}

// Exit implements sp.Process.
func (p *Process) Exit() {
	p.mu.Lock()
	if p.exited {
		p.mu.Unlock()
		panic("sptest: process exited twice")
	}
	p.exited = true
	p.mu.Unlock()
	p.k.mu.Lock()
	delete(p.k.procs, p.pid)
	p.k.mu.Unlock()
	p.k.exits.Add(1)
}

func fail(e netbsd.Errno) sp.Result { return sp.Result{Errno: e} }

func errnoOf(err error) netbsd.Errno {
	var e netbsd.Errno
	if errors.As(err, &e) {
		return e
	}
	return netbsd.EFAULT
}

// Syscall implements sp.Process.
func (p *Process) Syscall(ctx context.Context, req *sp.SyscallRequest) sp.Result {
	switch req.Num {
	case NullSyscall:
		return sp.Result{}
	case netbsd.SYS_getpid:
		return sp.Result{Retval: [2]uint64{uint64(p.pid), uint64(p.ppid)}}
	case netbsd.SYS_getppid:
		return sp.Result{Retval: [2]uint64{uint64(p.ppid)}}
	case BlockSyscall:
		select {
		case <-p.k.Block:
			return sp.Result{}
		case <-ctx.Done():
			return fail(netbsd.EINTR)
		}
	}
	args, _, ok := req.Args()
	if !ok {
		return fail(netbsd.ENOSYS)
	}
	switch req.Num {
	case netbsd.SYS_open:
		path, err := req.Mem.CopyInStr(ctx, args[0], netbsd.PATH_MAX)
		if err != nil {
			return fail(errnoOf(err))
		}
		p.k.mu.Lock()
		_, exists := p.k.files[path]
		if !exists && args[1]&netbsd.O_CREAT == 0 {
			p.k.mu.Unlock()
			return fail(netbsd.ENOENT)
		}
		if !exists {
			p.k.files[path] = nil
		}
		p.k.mu.Unlock()
		p.mu.Lock()
		defer p.mu.Unlock()
		fd := 0
		for p.fds[fd] != nil {
			fd++
		}
		p.fds[fd] = &openFile{path: path}
		return sp.Result{Retval: [2]uint64{uint64(fd)}}
	case netbsd.SYS_close:
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.fds[int(int32(args[0]))] == nil {
			return fail(netbsd.EBADF)
		}
		delete(p.fds, int(int32(args[0])))
		return sp.Result{}
	case netbsd.SYS_write:
		f := p.fd(args[0])
		if f == nil {
			return fail(netbsd.EBADF)
		}
		data, err := req.Mem.CopyIn(ctx, args[1], int(min(args[2], 1<<20)))
		if err != nil {
			return fail(errnoOf(err))
		}
		p.k.mu.Lock()
		if f.off > MaxFileSize-int64(len(data)) {
			p.k.mu.Unlock()
			return fail(netbsd.EFBIG)
		}
		old := p.k.files[f.path]
		end := int(f.off) + len(data)
		if end > len(old) {
			old = append(old, make([]byte, end-len(old))...)
		}
		copy(old[f.off:], data)
		p.k.files[f.path] = old
		f.off += int64(len(data))
		p.k.mu.Unlock()
		return sp.Result{Retval: [2]uint64{uint64(len(data))}}
	case netbsd.SYS_read:
		f := p.fd(args[0])
		if f == nil {
			return fail(netbsd.EBADF)
		}
		p.k.mu.Lock()
		data := p.k.files[f.path]
		var chunk []byte
		if f.off < int64(len(data)) { // offsets are never negative (lseek)
			n := min(args[2], uint64(int64(len(data))-f.off)) // a huge count must not wrap
			chunk = append([]byte(nil), data[f.off:f.off+int64(n)]...)
		}
		p.k.mu.Unlock()
		if len(chunk) > 0 {
			if err := req.Mem.CopyOut(ctx, args[1], chunk); err != nil {
				return fail(errnoOf(err))
			}
		}
		p.k.mu.Lock()
		f.off += int64(len(chunk))
		p.k.mu.Unlock()
		return sp.Result{Retval: [2]uint64{uint64(len(chunk))}}
	case netbsd.SYS_lseek:
		f := p.fd(args[0])
		if f == nil {
			return fail(netbsd.EBADF)
		}
		p.k.mu.Lock() // offsets are shared by concurrent syscalls on one fd
		defer p.k.mu.Unlock()
		off := f.off
		switch args[2] {
		case netbsd.SEEK_SET:
			off = int64(args[1])
		case netbsd.SEEK_CUR:
			off += int64(args[1])
		default:
			return fail(netbsd.EINVAL)
		}
		if off < 0 { // as NetBSD answers for a regular file
			return fail(netbsd.EINVAL)
		}
		f.off = off
		return sp.OffResult(req.ABI, f.off)
	case netbsd.SYS___fstat50:
		f := p.fd(args[0])
		if f == nil {
			return fail(netbsd.EBADF)
		}
		p.k.mu.Lock()
		size := len(p.k.files[f.path])
		p.k.mu.Unlock()
		st := netbsd.Stat{Dev: 8, Mode: netbsd.S_IFREG | 0644, Ino: 8, Nlink: 1, Rdev: netbsd.NODEV,
			Atim: netbsd.Timespec{Sec: 1_700_000_000, Nsec: 123_456_789}, Size: int64(size), Blksize: 512,
			Blocks: int64(size+511) / 512}
		st.Mtim, st.Ctim, st.Birthtim = st.Atim, st.Atim, st.Atim
		b, err := netbsd.LayoutsFor(req.ABI).Stat.Encode(&st)
		if err != nil {
			return fail(netbsd.EOVERFLOW)
		}
		if err := req.Mem.CopyOut(ctx, args[1], b); err != nil {
			return fail(errnoOf(err))
		}
		return sp.Result{}
	case netbsd.SYS_mmap:
		if args[3]&netbsd.MAP_ANON == 0 {
			return fail(netbsd.EOPNOTSUPP)
		}
		addr, err := req.Mem.AnonMmap(ctx, args[1])
		if err != nil {
			return fail(errnoOf(err))
		}
		return sp.Result{Retval: [2]uint64{addr}}
	case netbsd.SYS_kill:
		target := int(int32(args[0]))
		p.k.mu.Lock()
		t := p.k.procs[target]
		p.k.mu.Unlock()
		if t == nil {
			return fail(netbsd.ESRCH)
		}
		if args[1] == 0 {
			return sp.Result{}
		}
		t.mu.Lock()
		sig := t.client.Signal
		t.mu.Unlock()
		if sig == nil || sig(int32(args[1])) != nil {
			return fail(netbsd.ESRCH)
		}
		return sp.Result{}
	}
	return fail(netbsd.ENOSYS)
}

func (p *Process) fd(v uint64) *openFile {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fds[int(int32(v))]
}
