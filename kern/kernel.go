package kern

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// Kernel is sprig's simulated NetBSD kernel. It implements sp.Kernel: a
// server creates one process per GUEST client, forks for PREFORK, and
// runs every SYSCALL on the client's process. A Kernel is safe for
// concurrent use.
type Kernel struct {
	cfg  Config
	log  *slog.Logger
	fs   *fileSystem
	cons *console

	mu       sync.Mutex
	procs    map[int]*Process
	lastPid  int
	hostname string
	// login is the session's login name (__getlogin): every process of
	// a rump kernel is in proc0's session, so there is one.
	login string
}

var (
	_ sp.Kernel  = (*Kernel)(nil)
	_ sp.Process = (*Process)(nil)
)

// pidMax is the largest pid; allocation wraps around below it (NetBSD's
// PID_MAX).
const pidMax = 30000

// initPid is the server's own process, the parent of every guest.
const initPid = 1

// errNoPids is returned when every pid is taken.
var errNoPids = errors.New("kern: no free process id")

// The device numbers of the boot tree's devices: NetBSD's mem driver
// (major 2), minors 2 (null) and 12 (zero), as makedev encodes them.
const (
	rdevNull = 2<<8 | 2
	rdevZero = 2<<8 | 12
)

// New verifies cfg and boots a kernel as rump_server boots: pid 1 (the
// server's own process, root), a rumpfs root holding /dev (with null and
// zero) and /tmp, then the seed tree if the configuration names one.
func New(cfg Config) (*Kernel, error) {
	if err := cfg.verify(); err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	cfg.Clock = clock
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fs := newFileSystem(&cfg, clock)
	k := &Kernel{cfg: cfg, log: log, fs: fs, cons: newConsole(cfg.Console, fs.now()),
		procs: map[int]*Process{}, lastPid: initPid, hostname: cfg.Hostname}
	k.bootTree()
	server := &Process{k: k, pid: initPid, ppid: 0, pgid: initPid, name: "rump_server",
		cred: newCred(0, 0), fds: newFDTable(), cwd: fs.root.root, umask: 0o022}
	for i := range server.limits {
		server.limits[i] = netbsd.Rlimit{Cur: netbsd.RLIM_INFINITY, Max: netbsd.RLIM_INFINITY}
	}
	server.limits[netbsd.RLIMIT_NOFILE] = netbsd.Rlimit{Cur: uint64(cfg.MaxOpenFiles), Max: uint64(cfg.MaxOpenFilesHard)}
	k.procs[initPid] = server
	if err := k.seed(); err != nil {
		return nil, err
	}
	return k, nil
}

// bootTree makes what rump_server's "/" holds before any client runs:
// /dev (0755), /tmp (01777), and the devices /dev/null and /dev/zero,
// mknod'ed 0666 under the kernel's umask 022.
func (k *Kernel) bootTree() {
	fs := k.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	root := fs.root.root
	mkdir := func(name string, mode uint32) *inode {
		n := fs.newInode(fs.root, netbsd.S_IFDIR|mode, 0, 0)
		fs.linkDir(root, name, n)
		return n
	}
	dev := mkdir("dev", 0o755)
	mkdir("tmp", netbsd.S_ISVTX|0o777)
	mknod := func(name string, rdev uint64) *inode {
		n := fs.newInode(fs.root, netbsd.S_IFCHR|0o644, 0, 0)
		n.rdev = rdev
		fs.linkNode(dev, name, n)
		return n
	}
	fs.devNull = mknod("null", rdevNull)
	fs.devZero = mknod("zero", rdevZero)
}

// Config returns the kernel's configuration, with defaults filled in.
func (k *Kernel) Config() Config { return k.cfg }

// NewProcess implements sp.Kernel: the GUEST client's process is a child
// of pid 1 with a clean descriptor table (rfork flag 2) on which the
// console takes descriptors 0, 1 and 2; it has the configured
// credentials, cwd "/", umask 022 and pid 1's resource limits, and leads
// its own process group.
func (k *Kernel) NewProcess(ctx context.Context, c sp.ClientInfo) (sp.Process, error) {
	p, err := k.rfork(k.process(initPid), rforkCleanFDs, c, true)
	if err != nil {
		return nil, err
	}
	k.log.Debug("new process", "pid", p.pid, "name", c.Name)
	return p, nil
}

// register gives p the next free pid (and, for a group leader, its own
// process group) and enters it in the process table. Fields set before
// this are never written again, so others read them without locking.
func (k *Kernel) register(p *Process, leader bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for range pidMax {
		k.lastPid++
		if k.lastPid > pidMax {
			k.lastPid = initPid + 1
		}
		if k.procs[k.lastPid] == nil {
			p.pid = k.lastPid
			if leader {
				p.pgid = p.pid
			}
			k.procs[p.pid] = p
			return nil
		}
	}
	return errNoPids
}

// process returns the live process with pid, or nil.
func (k *Kernel) process(pid int) *Process {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.procs[pid]
}

// processes returns every live process.
func (k *Kernel) processes() []*Process {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*Process, 0, len(k.procs))
	for _, p := range k.procs {
		out = append(out, p)
	}
	return out
}

// forget removes p from the table and hands its children to pid 1.
func (k *Kernel) forget(p *Process) {
	k.mu.Lock()
	delete(k.procs, p.pid)
	var orphans []*Process
	for _, q := range k.procs {
		orphans = append(orphans, q)
	}
	k.mu.Unlock()
	for _, q := range orphans {
		q.mu.Lock()
		if q.ppid == p.pid {
			q.ppid = initPid
		}
		q.mu.Unlock()
	}
}

// Processes returns how many processes exist, pid 1 included.
func (k *Kernel) Processes() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.procs)
}
