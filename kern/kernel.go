package kern

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/sp"
)

// Kernel is sprig's simulated NetBSD kernel. It implements sp.Kernel: a
// server creates one process per GUEST client, forks for PREFORK, and
// runs every SYSCALL on the client's process. A Kernel is safe for
// concurrent use.
type Kernel struct {
	cfg Config
	log *slog.Logger
	fs  *fileSystem

	mu       sync.Mutex
	procs    map[int]*Process
	lastPid  int
	hostname string
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

// New verifies cfg and boots a kernel: pid 1, "/" and "/tmp", then the
// seed tree if the configuration names one.
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
	k := &Kernel{cfg: cfg, log: log, fs: newFileSystem(&cfg, clock),
		procs: map[int]*Process{}, lastPid: initPid, hostname: cfg.Hostname}
	server := &Process{k: k, pid: initPid, ppid: 0, pgid: initPid, name: "sprig",
		cred: cred{uid: 0, gid: 0}, fds: newFDTable(), cwd: k.fs.root, umask: 0o022}
	k.procs[initPid] = server
	if err := k.seed(); err != nil {
		return nil, err
	}
	return k, nil
}

// Config returns the kernel's configuration, with defaults filled in.
func (k *Kernel) Config() Config { return k.cfg }

// NewProcess implements sp.Kernel: the GUEST client's process is a child
// of pid 1 with a clean descriptor table (rfork flag 2), the configured
// credentials, cwd "/" and umask 022, and leads its own process group.
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
