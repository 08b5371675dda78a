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
// (MAP_ANON via ANONMMAP), kill (RAISE to the target's client) and pipe.
// A pipe is real enough to block: a read of an empty pipe waits for a
// write, for the last write end to close (EOF) or for cancellation
// (EINTR), like a read of an empty pipe in NetBSD. Every other number
// answers ENOSYS, as the real server does. Syscall number NullSyscall
// returns at once (benchmarks).
type Kernel struct {
	mu      sync.Mutex
	nextPid int
	procs   map[int]*Process
	files   map[string][]byte
	exits   atomic.Int64
	// Block, when set, makes syscall BlockSyscall wait on it (for tests
	// of cancellation and saturation).
	Block chan struct{}
	// ExecGate, when set, makes every Exec wait on it (or its context),
	// so a test can act while an EXEC handshake is in progress.
	ExecGate chan struct{}
}

// NullSyscall returns {0, 0} at once: sync(2), which takes no arguments.
const NullSyscall = netbsd.SYS_sync

// BlockSyscall waits for Kernel.Block or cancellation: fsync(2).
const BlockSyscall = netbsd.SYS_fsync

// MaxFileSize bounds the in-memory files: a write that would end beyond it
// fails with EFBIG rather than allocating whatever offset a client sought.
const MaxFileSize = 64 << 20

// Quick implements sp.QuickKernel: every call but read and write (which
// wait on a pipe) and BlockSyscall finishes on its own, so a server may
// run it on the connection's reader.
func (k *Kernel) Quick(num netbsd.Sysno) bool {
	return num != netbsd.SYS_read && num != netbsd.SYS_write && num != BlockSyscall
}

var _ sp.QuickKernel = (*Kernel)(nil)

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

// Process returns the live process pid, or nil.
func (k *Kernel) Process(pid int) *Process {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.procs[pid]
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
	path  string
	off   int64 // guarded by Kernel.mu
	pipe  *pipe // set for a pipe end
	write bool  // the pipe's write end
}

// pipe is an in-memory pipe: what was written and not yet read.
type pipe struct {
	mu      sync.Mutex
	buf     []byte
	writers int           // open write ends
	changed chan struct{} // closed and replaced on every write and close
}

func newPipe() *pipe { return &pipe{writers: 1, changed: make(chan struct{})} }

func (p *pipe) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// closeEnd closes one end of the pipe.
func (f *openFile) closeEnd() {
	if f.pipe == nil || !f.write {
		return
	}
	f.pipe.mu.Lock()
	f.pipe.writers--
	f.pipe.notifyLocked()
	f.pipe.mu.Unlock()
}

// read takes up to n bytes, waiting while the pipe is empty and has a
// writer.
func (p *pipe) read(ctx context.Context, n uint64) ([]byte, netbsd.Errno) {
	for {
		p.mu.Lock()
		if len(p.buf) > 0 {
			k := min(n, uint64(len(p.buf)))
			out := append([]byte(nil), p.buf[:k]...)
			p.buf = p.buf[k:]
			p.mu.Unlock()
			return out, 0
		}
		if p.writers == 0 {
			p.mu.Unlock()
			return nil, 0
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, netbsd.EINTR
		}
	}
}

func (p *pipe) write(data []byte) {
	p.mu.Lock()
	if len(p.buf)+len(data) <= MaxFileSize {
		p.buf = append(p.buf, data...)
	}
	p.notifyLocked()
	p.mu.Unlock()
}

// Pid implements sp.Process.
func (p *Process) Pid() int { return p.pid }

// Client returns what the server told the kernel about the process's
// client (its GUEST or FORK handshake).
func (p *Process) Client() sp.ClientInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client
}

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
		if f.pipe != nil && f.write {
			f.pipe.mu.Lock()
			f.pipe.writers++
			f.pipe.mu.Unlock()
		}
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
	if g := p.k.ExecGate; g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
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
	for _, f := range p.fds {
		f.closeEnd()
	}
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
	case netbsd.SYS_pipe:
		pp := newPipe()
		p.mu.Lock()
		defer p.mu.Unlock()
		rfd := p.freeFDLocked()
		p.fds[rfd] = &openFile{pipe: pp}
		wfd := p.freeFDLocked()
		p.fds[wfd] = &openFile{pipe: pp, write: true}
		return sp.Result{Retval: [2]uint64{uint64(rfd), uint64(wfd)}}
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
		fd := p.freeFDLocked()
		p.fds[fd] = &openFile{path: path}
		return sp.Result{Retval: [2]uint64{uint64(fd)}}
	case netbsd.SYS_close:
		p.mu.Lock()
		defer p.mu.Unlock()
		f := p.fds[int(int32(args[0]))]
		if f == nil {
			return fail(netbsd.EBADF)
		}
		f.closeEnd()
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
		if f.pipe != nil {
			if !f.write {
				return fail(netbsd.EBADF)
			}
			f.pipe.write(data)
			return sp.Result{Retval: [2]uint64{uint64(len(data))}}
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
		if f.pipe != nil {
			if f.write {
				return fail(netbsd.EBADF)
			}
			chunk, e := f.pipe.read(ctx, min(args[2], 1<<20))
			if e != 0 {
				return fail(e)
			}
			if len(chunk) > 0 {
				if err := req.Mem.CopyOut(ctx, args[1], chunk); err != nil {
					return fail(errnoOf(err))
				}
			}
			return sp.Result{Retval: [2]uint64{uint64(len(chunk))}}
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

func (p *Process) freeFDLocked() int {
	fd := 0
	for p.fds[fd] != nil {
		fd++
	}
	return fd
}

func (p *Process) fd(v uint64) *openFile {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fds[int(int32(v))]
}
