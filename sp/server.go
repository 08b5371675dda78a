package sp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/rumpsprig/sprig/abi"
)

var (
	// ErrServerClosed is returned by Serve after Shutdown.
	ErrServerClosed = errors.New("sp: server closed")
	errTooManyForks = errors.New("too many pending forks")
)

// ServerConfig configures a Server. Start from DefaultServerConfig.
type ServerConfig struct {
	// ABI is the server's own ABI: its banner machine and, in native
	// mode, the layout it reads every client's frames with.
	ABI *abi.Descriptor
	// Version is the protocol era to speak (Version01 or Version04).
	Version Version
	// OSRelease is the NetBSD release the banner names.
	OSRelease string
	// HideABI leaves sprig's " abi=NAME" extension out of the banner, so
	// the banner is byte for byte what a C server sends.
	HideABI bool
	// AssumeClientABI, when set, is the ABI assumed for clients that do
	// not declare one (instead of the server's own).
	AssumeClientABI *abi.Descriptor
	// IgnoreDeclarations makes the server behave exactly like a C server:
	// ABI declarations in GUEST bodies are ignored (server-translates off).
	IgnoreDeclarations bool
	// MaxClients bounds connected clients (C: 256).
	MaxClients int
	// MaxSyscalls bounds syscalls running at once across all clients
	// (C: 128 workers); beyond it clients get TRYAGAIN (EAGAIN in 0.1).
	MaxSyscalls int
	// IdleWorkers is how many idle syscall workers are kept (C: 16).
	IdleWorkers int
	// MaxPendingForks bounds PREFORK processes not yet claimed.
	MaxPendingForks int
	// MaxFrame bounds the frames a client may send.
	MaxFrame uint64
	// PadFill is written into padding C leaves uninitialised (the four
	// rsp_sysresp bytes after the error on LP64). DefaultPadFill is a
	// poison pattern; 0 gives the bytes a zeroing C stub sends.
	PadFill byte
	// Logger receives connection and protocol events; nil discards them.
	Logger *slog.Logger
	// Trace, when set, sees every frame on every connection.
	Trace func(c *ConnInfo, dir Direction, f *Frame)
}

// DefaultServerConfig returns the configuration of a C-like server for
// ABI d speaking protocol 0.4.
func DefaultServerConfig(d *abi.Descriptor) ServerConfig {
	return ServerConfig{
		ABI:             d,
		Version:         Version04,
		OSRelease:       "9.3",
		MaxClients:      256,
		MaxSyscalls:     128,
		IdleWorkers:     16,
		MaxPendingForks: 1024,
		MaxFrame:        DefaultMaxFrame,
		PadFill:         DefaultPadFill,
	}
}

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
	case c.IdleWorkers < 0 || c.IdleWorkers > c.MaxSyscalls:
		return bad("IdleWorkers", "must be between 0 and MaxSyscalls")
	case c.MaxPendingForks <= 0:
		return bad("MaxPendingForks", "must be positive")
	case c.MaxFrame < HeaderSize+64:
		return bad("MaxFrame", fmt.Sprintf("is %d; too small for any request", c.MaxFrame))
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

func (c *ServerConfig) banner() Banner {
	b := Banner{Version: c.Version, OSType: "NetBSD", OSRelease: c.OSRelease, Machine: c.ABI.Machine}
	if !c.HideABI {
		b.ABI = c.ABI.Name
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
	log    *slog.Logger
	banner []byte

	pool  *workerPool
	forks forkTable
	decls declCache

	// inflightMu orders starting a syscall against Shutdown's wait: a
	// syscall starts under the read lock only while closing is false.
	inflightMu sync.RWMutex

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*serverConn]struct{}
	closing   bool
	connWG    sync.WaitGroup
	nextID    atomic.Uint64
	inflight  sync.WaitGroup
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
	return &Server{
		cfg:       cfg,
		kernel:    k,
		log:       log,
		banner:    []byte(cfg.banner().Line()),
		pool:      newWorkerPool(cfg.MaxSyscalls, cfg.IdleWorkers),
		forks:     forkTable{limit: cfg.MaxPendingForks},
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

// Shutdown stops accepting, lets in-flight syscalls finish, then closes
// every connection. If ctx ends first, in-flight syscalls are cancelled
// (their clients see EFAULT-style failures) and connections are closed at
// once; Shutdown then returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.inflightMu.Lock()
	s.mu.Lock()
	s.closing = true
	s.inflightMu.Unlock()
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()

	drained := make(chan struct{})
	go func() { s.inflight.Wait(); close(drained) }()
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
	s.pool.stopIdle()
	return err
}

func remoteOf(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" {
		return a.String()
	}
	return "local"
}
