package sp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/internal/rawsock"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("sp: server closed")

// ServerConfig configures a Server. Start from DefaultServerConfig.
type ServerConfig struct {
	// ABI is the server's own ABI: its banner machine and, in native
	// mode, the layout it reads every client's frames with.
	ABI *abi.Descriptor
	// Version is the protocol era to speak (Version01 or Version04).
	Version Version
	// OSRelease is the NetBSD release the banner names.
	OSRelease string
	// HideABI leaves sprig's extensions (" abi=NAME", " preload=N") out
	// of the banner, so the banner is byte for byte what a C server
	// sends; a server that hides them is sent no PRELOAD either.
	HideABI bool
	// AssumeClientABI, when set, is the ABI assumed for clients that do
	// not declare one (instead of the server's own).
	AssumeClientABI *abi.Descriptor
	// IgnoreDeclarations makes the server behave exactly like a C server:
	// ABI declarations in GUEST bodies are ignored (server-translates off).
	IgnoreDeclarations bool
	// MaxClients bounds connected clients (C: 256). Default 256.
	MaxClients int

	// Scheduling (see the comment on scheduler in sched.go for why).

	// MaxSyscalls bounds the syscalls running at once across all
	// clients, blocked ones included (C: 128 workers), except that a
	// client with none running may always start one: the workers number
	// at most MaxSyscalls + MaxClients. Default 128.
	MaxSyscalls int
	// MaxSyscallsPerClient bounds one connection's syscalls running at
	// once; its further syscalls wait in its queue. Default 32.
	MaxSyscallsPerClient int
	// MaxQueuedSyscalls bounds the syscalls waiting for a worker, all
	// clients together. Only past it does a SYSCALL get TRYAGAIN (EAGAIN
	// in 0.1): the newest queued call of the client holding the most.
	// Default 16384.
	MaxQueuedSyscalls int
	// IdleWorkers is how many idle syscall workers are kept (C: 16).
	// Default 16.
	IdleWorkers int

	// Memory.

	// MaxFrame bounds the frames a client may send. Default
	// DefaultMaxFrame (16 MiB + 64).
	MaxFrame uint64
	// MaxClientBytes bounds the bytes of frames one connection has sent
	// that the server holds at once: queued syscalls, their preloads, and
	// the COPYIN or ANONMMAP answers its running syscalls wait for (each
	// reserved, at the most it may carry, when it is asked for). A
	// request for an answer that does not fit waits; one that could never
	// fit beside its call's own bytes fails (EFAULT); a SYSCALL that does
	// not fit gets TRYAGAIN. At least MaxFrame. Default 2 ×
	// DefaultMaxFrame.
	MaxClientBytes int64
	// MaxServerBytes is MaxClientBytes for all connections together; at
	// least MaxClientBytes. Default 256 MiB.
	MaxServerBytes int64
	// MaxPendingForks bounds PREFORK processes not yet claimed, all
	// clients together. Default 1024.
	MaxPendingForks int
	// MaxPendingForksPerClient bounds one connection's unclaimed
	// PREFORK processes; past it PREFORK gets NOMEM. Default 16.
	MaxPendingForksPerClient int
	// PendingForkTimeout is how long a PREFORK process waits for its
	// FORK handshake, whether or not its parent is still connected
	// (rumpclient_daemon's parent leaves at once); then it is dropped.
	// Default 30 s.
	PendingForkTimeout time.Duration
	// MaxDeclaredABIs bounds the distinct user ABIs (declared, not
	// registered) in use at once; each is freed when its last client
	// and pending fork are gone. Default 64.
	MaxDeclaredABIs int

	// Timeouts.

	// HandshakeTimeout bounds the time from accept to a complete first
	// frame; a client that sends nothing or only part of it is dropped.
	// A slow client that completes it in time is served. Default 5 s.
	HandshakeTimeout time.Duration
	// IdleTimeout, when positive, drops a client that sends nothing for
	// that long while none of its syscalls is queued or running.
	// Default 0: none (the C server has none).
	IdleTimeout time.Duration
	// WriteTimeout bounds each frame written to a client: one that
	// stops reading is dropped when a write has waited that long, and
	// its syscalls are cancelled. Default 10 s.
	WriteTimeout time.Duration
	// CopyTimeout, when positive, bounds the wait for the answer to a
	// COPYIN, COPYINSTR or ANONMMAP request; past it the kernel sees
	// EFAULT. Default 0: none (the C server waits for ever).
	CopyTimeout time.Duration
	// ReadSpin is how long a connection's reader polls its socket for
	// the client's next frame before it sleeps: CPU spent so that a
	// client calling back to back is answered without a wakeup, where the
	// server has a process and CPUs to itself (sprig serve polls for
	// DefaultReadSpin). Only one reader of the process polls at a time,
	// and none starts while another connection that had data within the
	// last 100 ms waits for more (internal/rawsock's SetSpin): a client
	// calling less often than that may find its request read up to a
	// millisecond late, behind a busy client's poll. Default 0: never; a
	// server sharing its process with its clients, or a machine with its
	// clients, would take CPU from them.
	ReadSpin time.Duration

	// InlineQuickSyscalls runs a syscall the kernel calls quick (see
	// QuickKernel) on the connection's reading goroutine when nothing
	// else of the connection is queued or running and the server has a
	// free syscall slot: one thread wakeup less per call. It changes
	// nothing a client can see but latency. Default true.
	InlineQuickSyscalls bool
	// CoalesceCopyOut holds a syscall's small COPYOUT requests (4 KiB in
	// all) and writes them with the next frame of the same syscall (its
	// reply, or a request that needs an answer), in one write: what a
	// client reads is unchanged, in the same order. Default true.
	CoalesceCopyOut bool
	// MaxPreload is the most PRELOAD body bytes the server takes with one
	// SYSCALL, offered in the banner (" preload=N") to sprig clients that
	// ask for it (ClientConfig.Preload): the bytes a syscall would copy
	// in come with it, and a pwrite or an open costs one round trip, not
	// two. A PRELOAD is held like a queued SYSCALL (MaxClientBytes; all
	// of a connection's together at most half of it, so that the COPYIN
	// answers of running calls always find room) and dropped unread when
	// it does not fit; its call then asks for the bytes as usual, as it
	// does when the PRELOAD would leave the SYSCALL itself no room. The
	// offer is cut to what a frame (MaxFrame) can carry. 0 offers
	// nothing. Default DefaultMaxPreload.
	MaxPreload uint64

	// PadFill is written into padding C leaves uninitialised (the four
	// rsp_sysresp bytes after the error on LP64). DefaultPadFill is a
	// poison pattern; 0 gives the bytes a zeroing C stub sends.
	PadFill byte
	// Logger receives connection and protocol events; nil discards them.
	Logger *slog.Logger
	// Trace, when set, sees every frame on every connection. Of a frame
	// the server cuts (a SYSCALL body longer than its argument struct, a
	// long program name, a reply nobody waits for) it sees the header as
	// received and the body as kept.
	Trace func(c *ConnInfo, dir Direction, f *Frame)
}

// DefaultOSRelease is the NetBSD release a server's banner names by
// default: the one NetBSD's own rump_server of the measured era reports
// (kern.osrelease agrees, see package kern).
const DefaultOSRelease = "7.99.34"

// DefaultServerConfig returns the configuration of a C-like server for
// ABI d speaking protocol 0.4.
func DefaultServerConfig(d *abi.Descriptor) ServerConfig {
	return ServerConfig{
		ABI:                      d,
		Version:                  Version04,
		OSRelease:                DefaultOSRelease,
		MaxClients:               256,
		MaxSyscalls:              128,
		MaxSyscallsPerClient:     32,
		MaxQueuedSyscalls:        16384,
		IdleWorkers:              16,
		MaxFrame:                 DefaultMaxFrame,
		MaxClientBytes:           2 * DefaultMaxFrame,
		MaxServerBytes:           256 << 20,
		MaxPendingForks:          1024,
		MaxPendingForksPerClient: 16,
		PendingForkTimeout:       30 * time.Second,
		MaxDeclaredABIs:          64,
		HandshakeTimeout:         5 * time.Second,
		WriteTimeout:             10 * time.Second,
		PadFill:                  DefaultPadFill,
		InlineQuickSyscalls:      true,
		CoalesceCopyOut:          true,
		MaxPreload:               DefaultMaxPreload,
	}
}

// DefaultReadSpin is the ReadSpin of sprig serve and of sprig bench's
// clients: longer than a null syscall's round trip on the machines sprig
// is measured on, short enough that an idle peer costs next to nothing
// (RATIONALE.md, "A reader polls before it sleeps").
const DefaultReadSpin = rawsock.DefaultSpin

// MaxReadSpin bounds ReadSpin: polling is for replies on their way, not
// a substitute for sleeping.
const MaxReadSpin = rawsock.MaxSpin

// DefaultMaxPreload is ServerConfig.MaxPreload's default: a 64 KiB write
// and its path's worth of room.
const DefaultMaxPreload = 68 << 10

func (c *ServerConfig) verify() error {
	bad := func(field, why string) error { return fmt.Errorf("sp: server config: %s %s", field, why) }
	switch {
	case c.ABI == nil:
		return bad("ABI", "is nil")
	case c.Version != Version01 && c.Version != Version04:
		return bad("Version", fmt.Sprintf("is %s; want 0.1 or 0.4", c.Version))
	case c.OSRelease == "":
		return bad("OSRelease", "is empty")
	case c.MaxClients <= 0:
		return bad("MaxClients", "must be positive")
	case c.MaxSyscalls <= 0:
		return bad("MaxSyscalls", "must be positive")
	case c.MaxSyscallsPerClient <= 0:
		return bad("MaxSyscallsPerClient", "must be positive")
	case c.MaxQueuedSyscalls <= 0:
		return bad("MaxQueuedSyscalls", "must be positive")
	case c.IdleWorkers < 0 || c.IdleWorkers > c.MaxSyscalls:
		return bad("IdleWorkers", "must be between 0 and MaxSyscalls")
	case c.MaxFrame < HeaderSize+64 || c.MaxFrame > 1<<40:
		return bad("MaxFrame", fmt.Sprintf("is %d; want %d to 2^40", c.MaxFrame, HeaderSize+64))
	case c.MaxClientBytes < int64(c.MaxFrame):
		return bad("MaxClientBytes", fmt.Sprintf("is %d; must hold a whole frame (MaxFrame %d)", c.MaxClientBytes, c.MaxFrame))
	case c.MaxServerBytes < c.MaxClientBytes:
		return bad("MaxServerBytes", fmt.Sprintf("is %d; must be at least MaxClientBytes (%d)", c.MaxServerBytes, c.MaxClientBytes))
	case c.MaxPendingForks <= 0:
		return bad("MaxPendingForks", "must be positive")
	case c.MaxPendingForksPerClient <= 0:
		return bad("MaxPendingForksPerClient", "must be positive")
	case c.PendingForkTimeout <= 0:
		return bad("PendingForkTimeout", "must be positive")
	case c.MaxDeclaredABIs <= 0:
		return bad("MaxDeclaredABIs", "must be positive")
	case c.HandshakeTimeout <= 0:
		return bad("HandshakeTimeout", "must be positive")
	case c.IdleTimeout < 0:
		return bad("IdleTimeout", "must not be negative (0: none)")
	case c.WriteTimeout <= 0:
		return bad("WriteTimeout", "must be positive")
	case c.CopyTimeout < 0:
		return bad("CopyTimeout", "must not be negative (0: none)")
	case c.ReadSpin < 0 || c.ReadSpin > MaxReadSpin:
		return bad("ReadSpin", fmt.Sprintf("must be 0 to %v", MaxReadSpin))
	}
	if err := c.ABI.Validate(); err != nil {
		return err
	}
	if c.AssumeClientABI != nil {
		if err := c.AssumeClientABI.Validate(); err != nil {
			return err
		}
	}
	if n := len(c.banner().Line()); n > MaxBanner {
		return bad("OSRelease", fmt.Sprintf("makes the banner %d bytes (max %d)", n, MaxBanner))
	}
	return nil
}

// preloadOffer is the PRELOAD body the server takes: MaxPreload, as far
// as one frame carries it; 0 when the banner hides sprig's extensions.
func (c *ServerConfig) preloadOffer() uint64 {
	if c.HideABI {
		return 0
	}
	return min(c.MaxPreload, c.MaxFrame-HeaderSize)
}

func (c *ServerConfig) banner() Banner {
	b := Banner{Version: c.Version, OSType: "NetBSD", OSRelease: c.OSRelease, Machine: c.ABI.Machine}
	if !c.HideABI {
		b.ABI, b.Preload = c.ABI.Name, c.preloadOffer()
	}
	return b
}

// ConnInfo identifies one server connection in logs and traces.
type ConnInfo struct {
	ID     uint64
	Remote string
	// ABI is the ABI the server reads this client with.
	ABI *abi.Descriptor
}

// Server is a sysproxy server: it accepts clients, speaks the protocol and
// runs their syscalls on a Kernel.
type Server struct {
	cfg    ServerConfig
	kernel Kernel
	quick  QuickKernel // kernel, when it says which calls are quick and inlining is on
	log    *slog.Logger
	banner []byte

	sched *scheduler
	forks *forkTable
	decls *declCache
	bytes *budget // frames held, all connections together

	handOffs atomic.Uint64 // ServerStats.ReaderHandOffs

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*serverConn]struct{}
	closing   bool
	connWG    sync.WaitGroup
	nextID    atomic.Uint64
}

// NewServer verifies cfg and returns a server running syscalls on k.
func NewServer(k Kernel, cfg ServerConfig) (*Server, error) {
	if k == nil {
		return nil, errors.New("sp: NewServer: nil kernel")
	}
	if err := cfg.verify(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var quick QuickKernel
	if qk, ok := k.(QuickKernel); ok && cfg.InlineQuickSyscalls {
		quick = qk
	}
	return &Server{
		cfg:       cfg,
		kernel:    k,
		quick:     quick,
		log:       log,
		banner:    []byte(cfg.banner().Line()),
		sched:     newScheduler(cfg.MaxSyscalls, cfg.MaxSyscallsPerClient, cfg.IdleWorkers, cfg.MaxQueuedSyscalls),
		forks:     newForkTable(cfg.MaxPendingForks, cfg.MaxPendingForksPerClient, cfg.PendingForkTimeout),
		decls:     newDeclCache(cfg.MaxDeclaredABIs),
		bytes:     newBudget(cfg.MaxServerBytes),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*serverConn]struct{}{},
	}, nil
}

// Config returns the server's configuration.
func (s *Server) Config() ServerConfig { return s.cfg }

// Serve accepts connections on ln until Shutdown or an accept error. It
// always returns a non-nil error; ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		tuneConn(c)
		go s.ServeConn(c)
	}
}

// ServeConn serves one already-connected client until it disconnects. It
// is how in-process transports (pipes, wazero guests) reach the server.
func (s *Server) ServeConn(c net.Conn) {
	sc, ok := s.track(c)
	if !ok {
		c.Close()
		return
	}
	defer s.untrack(sc)
	sc.serve()
}

func (s *Server) track(c net.Conn) (*serverConn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, false
	}
	if len(s.conns) >= s.cfg.MaxClients {
		s.log.Warn("refusing client: too many clients", "remote", remoteOf(c), "max", s.cfg.MaxClients)
		return nil, false
	}
	sc := newServerConn(s, c)
	s.conns[sc] = struct{}{}
	s.connWG.Add(1)
	return sc, true
}

func (s *Server) untrack(sc *serverConn) {
	s.mu.Lock()
	delete(s.conns, sc)
	s.mu.Unlock()
	s.connWG.Done()
}

// Clients returns how many clients are connected.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// PendingForks returns how many PREFORK processes await a FORK handshake.
func (s *Server) PendingForks() int { return s.forks.len() }

// ServerStats is a snapshot of what a Server holds.
type ServerStats struct {
	Clients         int
	QueuedSyscalls  int
	RunningSyscalls int
	Workers         int   // syscall worker goroutines, busy or idle
	HeldBytes       int64 // bytes of received frames held (MaxServerBytes)
	PendingForks    int
	DeclaredABIs    int // distinct user ABIs in use
	// ReaderHandOffs counts, since the server started, the inline calls
	// that gave their connection's reading to a new goroutine: a quick
	// call whose client sent something else while it waited for a COPYIN
	// answer, or any quick call's COPYIN when CopyTimeout is set.
	ReaderHandOffs uint64
}

// Stats returns a snapshot of the server's load.
func (s *Server) Stats() ServerStats {
	q, r, w := s.sched.stats()
	return ServerStats{Clients: s.Clients(), QueuedSyscalls: q, RunningSyscalls: r, Workers: w,
		HeldBytes: s.bytes.inUse(), PendingForks: s.forks.len(), DeclaredABIs: s.decls.len(),
		ReaderHandOffs: s.handOffs.Load()}
}

// Shutdown stops accepting, lets in-flight syscalls (queued or running)
// finish, then closes every connection and drops the pending forks. If
// ctx ends first, in-flight syscalls are cancelled (their clients see
// EFAULT-style failures) and connections are closed at once; Shutdown
// then returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.sched.close() // no syscall is queued after this
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()

	drained := make(chan struct{})
	go func() { s.sched.inflight.Wait(); close(drained) }()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	for sc := range s.conns {
		sc.close()
	}
	s.mu.Unlock()
	s.connWG.Wait()
	s.forks.close()
	s.sched.stopIdle()
	return err
}

func remoteOf(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" {
		return a.String()
	}
	return "local"
}
