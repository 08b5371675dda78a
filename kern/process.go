package kern

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// Process is one process of a Kernel. It implements sp.Process.
type Process struct {
	k *Kernel

	// Set before the process is registered, read-only afterwards.
	pid  int
	pgid int
	fds  *fdTable

	mu     sync.Mutex
	ppid   int
	name   string
	client sp.ClientInfo
	// cwd changes only with fs.mu held too, so an unmount that holds
	// fs.mu sees every working directory as it is.
	cwd    *inode
	umask  uint32
	cred   cred
	limits [netbsd.RLIM_NLIMITS]netbsd.Rlimit
	exited bool

	// spare is the call the process's last syscall ran in, for the next
	// one (Syscall): a call allocated per syscall was the kernel's only
	// allocation on a getpid or a pread.
	spare atomic.Pointer[call]
}

// rforkFlag chooses what a child does with its parent's descriptor
// table; the values are the ones the sysproxy server passes to the rump
// kernel's rfork.
type rforkFlag int

const (
	// rforkShareFDs: parent and child use one table (the C server's
	// second fork on a FORK handshake).
	rforkShareFDs rforkFlag = 0
	// rforkCopyFDs (RFFDG): the child gets a copy; its descriptors share
	// open files, offsets included, with the parent's (PREFORK).
	rforkCopyFDs rforkFlag = 1
	// rforkCleanFDs (RFCFDG): the child starts with no descriptors
	// (GUEST), and then the console on 0, 1 and 2.
	rforkCleanFDs rforkFlag = 2
)

var errExited = errors.New("kern: process has exited")

// rfork creates a child of parent. A guest child is a new client's
// process: it leads its own process group, takes the configured
// credentials and the client's program name, and gets the console on
// descriptors 0-2; other children inherit group, credentials and name
// from the parent. Every child inherits the cwd, umask and resource
// limits. fs.mu is held throughout, so no unmount runs between reading
// the parent's cwd and entering the child in the process table.
func (k *Kernel) rfork(parent *Process, flag rforkFlag, c sp.ClientInfo, guest bool) (*Process, error) {
	k.fs.mu.Lock()
	parent.mu.Lock()
	if parent.exited {
		parent.mu.Unlock()
		k.fs.mu.Unlock()
		return nil, errExited
	}
	child := &Process{k: k, ppid: parent.pid, pgid: parent.pgid, cred: parent.cred,
		name: parent.name, client: c, cwd: parent.cwd, umask: parent.umask, limits: parent.limits}
	parent.mu.Unlock()
	switch flag {
	case rforkShareFDs:
		child.fds = parent.fds.share()
	case rforkCopyFDs:
		child.fds = parent.fds.copy()
	default:
		child.fds = newFDTable()
	}
	if guest {
		child.cred = newCred(k.cfg.UID, k.cfg.GID)
		child.name = c.Name
		cons := newConsoleFile(k.fs, k.cons)
		for fd := range 3 {
			if fd > 0 {
				cons.hold()
			}
			child.fds.install(cons, fd, fd+1, false)
		}
	}
	err := k.register(child, guest)
	k.fs.mu.Unlock()
	if err != nil {
		releaseAll(child.fds.leave()) // closing a vnode file takes fs.mu
		return nil, err
	}
	return child, nil
}

// Pid implements sp.Process.
func (p *Process) Pid() int { return p.pid }

// PPid returns the parent's pid; 1 once the parent has exited.
func (p *Process) PPid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ppid
}

// Name returns the program name from the handshake or the last exec.
func (p *Process) Name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.name
}

// Fork implements sp.Process for PREFORK: the child copies the
// descriptor table (rfork flag 1), so both processes' descriptors share
// open files and offsets, as after a real fork. It has no client until a
// FORK handshake attaches one; signals sent to it meanwhile are dropped.
func (p *Process) Fork(ctx context.Context) (sp.Process, error) {
	p.mu.Lock()
	c := p.client
	p.mu.Unlock()
	c.Signal = nil
	child, err := p.k.rfork(p, rforkCopyFDs, c, false)
	if err != nil {
		return nil, err
	}
	p.k.log.Debug("fork", "parent", p.pid, "child", child.pid)
	return child, nil
}

// Attach implements sp.Process as the C server does on a FORK handshake:
// it forks the preforked process once more, sharing its descriptor table
// (rfork flag 0), and drops the first. The process that serves the new
// connection therefore has a fresh pid and, its parent having exited,
// ppid 1 -- what a real rump server reports.
func (p *Process) Attach(c sp.ClientInfo) (sp.Process, error) {
	child, err := p.k.rfork(p, rforkShareFDs, c, false)
	if err != nil {
		return nil, err
	}
	p.Exit()
	return child, nil
}

// Exec implements sp.Process: the process takes the new program's name
// and its close-on-exec descriptors close. (NetBSD would first give a
// process sharing its table a private copy; only kern's internal flag-0
// fork shares tables, and no client process is made that way.)
func (p *Process) Exec(ctx context.Context, name string) error {
	p.mu.Lock()
	if p.exited {
		p.mu.Unlock()
		return errExited
	}
	p.name = name
	p.mu.Unlock()
	releaseAll(p.fds.takeCloexec())
	return nil
}

// Exit implements sp.Process: every descriptor closes (so the other ends
// of its pipes see EOF or EPIPE), the process leaves the table and its
// children are handed to pid 1. Later calls do nothing.
func (p *Process) Exit() {
	p.mu.Lock()
	if p.exited {
		p.mu.Unlock()
		return
	}
	p.exited = true
	p.mu.Unlock()
	p.k.forget(p)
	releaseAll(p.fds.leave())
	p.k.log.Debug("exit", "pid", p.pid)
}

// snapshot returns what a path syscall needs from the process.
func (p *Process) snapshot() (cwd *inode, umask uint32, cr cred) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cwd, p.umask, p.cred
}

// creds returns the process's credentials as they are now.
func (p *Process) creds() cred {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cred
}

// nofile is the descriptor limit: RLIMIT_NOFILE's soft limit, capped by
// maxfiles, as fd_alloc and dup2 use it.
func (p *Process) nofile() int {
	p.mu.Lock()
	cur := p.limits[netbsd.RLIMIT_NOFILE].Cur
	p.mu.Unlock()
	return int(min(cur, uint64(p.k.cfg.MaxOpenFilesHard)))
}

// setCwd makes n the working directory; the caller holds fs.mu.
func (p *Process) setCwd(n *inode) {
	p.mu.Lock()
	p.cwd = n
	p.mu.Unlock()
}

// signal delivers sig to p's client, if it has one.
func (p *Process) signal(sig int32) {
	p.mu.Lock()
	deliver := p.client.Signal
	p.mu.Unlock()
	if deliver == nil {
		p.k.log.Debug("signal dropped: no client", "pid", p.pid, "signal", sig)
		return
	}
	if err := deliver(sig); err != nil {
		p.k.log.Debug("signal not delivered", "pid", p.pid, "signal", sig, "err", err)
	}
}

// tree returns the connection tree p belongs to (sp.ClientInfo.Conn);
// pid 1, the server's own process, belongs to none.
func (p *Process) tree() (uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client.Conn, p.pid != initPid
}
