package proxy

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/internal/xlate"
)

// ErrClosed is returned by Serve after Shutdown.
var ErrClosed = errors.New("proxy: closed")

// Proxy accepts sysproxy clients and relays each to its own upstream
// connection, translating between the client's ABI and the server's.
type Proxy struct {
	cfg Config
	log *slog.Logger
	url *sp.URL // nil when cfg.Dial is set

	forks forkTable
	decls declCache
	pairs map[[2]*abi.Descriptor]*xlate.Pair // guarded by mu

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   bool
	wg        sync.WaitGroup
	nextID    atomic.Uint64
}

// New verifies cfg and returns a proxy.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.verify(); err != nil {
		return nil, err
	}
	p := &Proxy{cfg: cfg, log: cfg.Logger, listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.forks.limit = cfg.MaxPendingForks
	if cfg.Dial == nil {
		p.url, _ = sp.ParseURL(cfg.Upstream) // verified
	}
	return p, nil
}

// Config returns the proxy's configuration.
func (p *Proxy) Config() Config { return p.cfg }

// Serve accepts clients on ln until Shutdown or an accept error. It
// always returns a non-nil error; ErrClosed after Shutdown.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return ErrClosed
	}
	p.listeners[ln] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.listeners, ln)
		p.mu.Unlock()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			p.mu.Lock()
			closing := p.closing
			p.mu.Unlock()
			if closing {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		go p.ServeConn(c)
	}
}

// ServeConn serves one connected client until either side disconnects.
func (p *Proxy) ServeConn(nc net.Conn) {
	p.mu.Lock()
	if p.closing || len(p.conns) >= p.cfg.MaxClients {
		p.mu.Unlock()
		p.log.Warn("refusing client", "remote", remoteOf(nc), "closing", p.closing, "max clients", p.cfg.MaxClients)
		nc.Close()
		return
	}
	c := newConn(p, nc)
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		p.wg.Done()
	}()
	c.serve()
}

// Clients returns how many clients are connected.
func (p *Proxy) Clients() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Shutdown stops accepting and closes every connection, then waits for
// them to finish or ctx to end.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closing = true
	for ln := range p.listeners {
		ln.Close()
	}
	for c := range p.conns {
		c.close()
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Proxy) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	defer cancel()
	if p.cfg.Dial != nil {
		return p.cfg.Dial(ctx)
	}
	return p.url.Dial(ctx)
}

func remoteOf(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" {
		return a.String()
	}
	return "local"
}

// forkTable remembers, for each PREFORK cookie the upstream handed out,
// the ABI of the parent, which the child's connection keeps even when it
// does not declare it again. Entries go when claimed, when their parent
// disconnects, or, beyond the limit, oldest first.
type forkTable struct {
	mu      sync.Mutex
	entries []forkEntry
	limit   int
}

type forkEntry struct {
	cookie sp.Cookie
	abi    *abi.Descriptor
	owner  *conn
}

func (t *forkTable) add(owner *conn, ck sp.Cookie, d *abi.Descriptor) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) >= t.limit {
		t.entries = t.entries[1:]
	}
	t.entries = append(t.entries, forkEntry{cookie: ck, abi: d, owner: owner})
}

// take returns the ABI of the parent that made ck, or nil.
func (t *forkTable) take(ck sp.Cookie) *abi.Descriptor {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, e := range t.entries {
		if subtle.ConstantTimeCompare(e.cookie[:], ck[:]) == 1 {
			t.entries = append(t.entries[:i], t.entries[i+1:]...)
			return e.abi
		}
	}
	return nil
}

func (t *forkTable) peek(ck sp.Cookie) *abi.Descriptor {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(e.cookie[:], ck[:]) == 1 {
			return e.abi
		}
	}
	return nil
}

func (t *forkTable) dropOwner(c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.entries[:0]
	for _, e := range t.entries {
		if e.owner != c {
			kept = append(kept, e)
		}
	}
	clear(t.entries[len(kept):])
	t.entries = kept
}

func (t *forkTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// PendingForks returns how many PREFORK cookies await a FORK handshake.
func (p *Proxy) PendingForks() int { return p.forks.len() }

// declCache interns declared ABIs: a declaration equal to a registered
// ABI becomes that descriptor (sharing its cached layouts), and distinct
// user ABIs are kept once each, up to a bound, so clients cannot grow the
// proxy's memory without limit.
type declCache struct {
	mu   sync.Mutex
	seen map[string]*abi.Descriptor
}

const maxDeclaredABIs = 64

func (c *declCache) resolve(raw []byte) (*abi.Descriptor, error) {
	d, err := abi.Parse(raw)
	if err != nil {
		return nil, err
	}
	for _, known := range abi.All() {
		if reflect.DeepEqual(known, d) {
			return known, nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.seen[string(raw)]; ok {
		return old, nil
	}
	if len(c.seen) >= maxDeclaredABIs {
		return nil, errors.New("too many distinct declared ABIs")
	}
	if c.seen == nil {
		c.seen = map[string]*abi.Descriptor{}
	}
	c.seen[string(raw)] = d
	return d, nil
}
