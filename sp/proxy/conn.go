package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/internal/xlate"
)

// ends is what a connection knows about its client once the first
// handshake has settled the client's ABI. It is set once, then read by
// both sides' goroutines.
type ends struct {
	cabi   *abi.Descriptor
	ccodec *sp.Codec
	sess   *xlate.Session
	mem    *clientMemory // the client's memory, over the client connection
	view   xlate.Memory  // the same as the server sees it
}

// conn is one client connection and its upstream connection.
type conn struct {
	p   *Proxy
	id  uint64
	log *slog.Logger
	cc  net.Conn
	cfr *sp.Framer

	// Set by connectUpstream before either reading goroutine starts.
	uc         net.Conn
	ufr        *sp.Framer
	sabi       *abi.Descriptor
	ucodec     *sp.Codec
	uver, cver sp.Version

	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once

	running    atomic.Bool // the first handshake was forwarded
	handshaken atomic.Bool // and answered with success
	ends       atomic.Pointer[ends]

	mu       sync.Mutex
	up       map[uint64]*pending       // client requests sent upstream, by upstream reqno
	nextUp   uint64                    // numbers requests sent upstream
	down     map[uint64]chan *sp.Frame // the proxy's requests to the client, by reqno
	nextDown uint64
	dead     bool // no more requests to the client
	inflight int  // client requests not yet answered
	helpers  int  // goroutines serving upstream copy requests
	wg       sync.WaitGroup
}

// pending is a client request forwarded upstream.
type pending struct {
	reqno uint64 // the client's number
	h     sp.Header
	call  *xlate.Call // a translated SYSCALL
	first bool        // the first handshake
}

func newConn(p *Proxy, nc net.Conn) *conn {
	c := &conn{p: p, id: p.nextID.Add(1), cc: nc, up: map[uint64]*pending{}, nextUp: 1,
		down: map[uint64]chan *sp.Frame{}}
	c.log = p.log.With("conn", c.id)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.cfr = sp.NewFramer(bufio.NewReaderSize(nc, sp.ReadBufferSize), nc, p.cfg.ClientABI)
	c.cfr.MaxFrame = p.cfg.MaxFrame
	if p.cfg.Trace != nil {
		c.cfr.Trace = func(d sp.Direction, f *sp.Frame) {
			c.trace(Event{Side: SideClient, Dir: d, ABI: c.clientABI(), Frame: f})
		}
	}
	return c
}

func (c *conn) clientABI() *abi.Descriptor {
	if e := c.ends.Load(); e != nil {
		return e.cabi
	}
	return c.p.cfg.ClientABI
}

func (c *conn) trace(ev Event) {
	if c.p.cfg.Trace != nil {
		ev.Conn = c.id
		c.p.cfg.Trace(ev)
	}
}

func (c *conn) note(format string, args ...any) {
	if c.p.cfg.Trace != nil {
		c.trace(Event{Note: fmt.Sprintf(format, args...)})
	}
}

// close ends both connections; the reading goroutines then finish.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.cc.Close()
		c.mu.Lock()
		uc := c.uc
		c.mu.Unlock()
		if uc != nil {
			uc.Close()
		}
	})
}

func (c *conn) serve() {
	c.log.Info("client connected", "remote", remoteOf(c.cc))
	timer := time.AfterFunc(c.p.cfg.HandshakeTimeout, func() {
		if !c.handshaken.Load() {
			c.log.Warn("no completed handshake in time; dropping the client", "timeout", c.p.cfg.HandshakeTimeout)
			c.close()
		}
	})
	defer timer.Stop()
	defer c.teardown()
	if err := c.connectUpstream(); err != nil {
		c.log.Warn("upstream unavailable; refusing the client", "err", err)
		c.refuseClient()
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.upstreamLoop()
	}()
	c.clientLoop()
}

// connectUpstream dials the server, reads its banner, settles the
// server's ABI and the eras, and sends the client its banner.
func (c *conn) connectUpstream() error {
	cfg := &c.p.cfg
	uc, err := c.p.dial(c.ctx)
	if err != nil {
		return fmt.Errorf("dialing upstream: %w", err)
	}
	c.mu.Lock()
	c.uc = uc
	c.mu.Unlock()
	if c.ctx.Err() != nil { // closed while dialing
		uc.Close()
		return c.ctx.Err()
	}
	uc.SetReadDeadline(time.Now().Add(cfg.DialTimeout))
	b, err := sp.ReadBanner(uc)
	uc.SetReadDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("upstream banner: %w", err)
	}
	if c.sabi, err = c.serverABI(b); err != nil {
		return err
	}
	c.uver = sp.Version04
	if b.Version == sp.Version01 {
		c.uver = sp.Version01
	}
	c.cver = cfg.ClientVersion
	if c.cver == (sp.Version{}) {
		c.cver = c.uver
	}
	c.ufr = sp.NewFramer(bufio.NewReaderSize(uc, sp.ReadBufferSize), uc, c.sabi)
	c.ufr.MaxFrame = cfg.MaxFrame
	if cfg.Trace != nil {
		c.ufr.Trace = func(d sp.Direction, f *sp.Frame) {
			c.trace(Event{Side: SideServer, Dir: d, ABI: c.sabi, Frame: f})
		}
	}
	c.ucodec = sp.NewCodec(c.sabi)
	c.log.Info("upstream connected", "banner", b.String(), "server abi", c.sabi.Name,
		"client abi", cfg.ClientABI.Name, "upstream era", c.uver.String(), "client era", c.cver.String())
	c.note("upstream banner %q: server ABI %s, era %s; client era %s", b.String(), c.sabi.Name, c.uver, c.cver)
	return c.sendBanner(sp.Banner{Version: c.cver, OSType: b.OSType, OSRelease: b.OSRelease, Machine: b.Machine})
}

// serverABI is the banner's " abi=NAME", else Config.ServerABI, else the
// only ABI with the banner's machine word.
func (c *conn) serverABI(b sp.Banner) (*abi.Descriptor, error) {
	cfg := &c.p.cfg
	if b.ABI != "" {
		if d, err := abi.Lookup(b.ABI); err == nil {
			if cfg.ServerABI != nil && cfg.ServerABI != d {
				c.log.Warn("the upstream's banner names another ABI than configured; using the banner's", "banner", d.Name, "configured", cfg.ServerABI.Name)
			}
			return d, nil
		}
	}
	if cfg.ServerABI != nil {
		return cfg.ServerABI, nil
	}
	d, err := b.ServerABI()
	if err != nil {
		return nil, fmt.Errorf("upstream ABI: %w (set the server ABI)", err)
	}
	return d, nil
}

// sendBanner sends the client a banner of the proxy's own: the
// upstream's era, release and machine word (the machine the kernel runs
// on, which sysctl hw.machine agrees with), and, unless hidden, the ABI
// the proxy speaks to the client. A C client reads none of it.
func (c *conn) sendBanner(b sp.Banner) error {
	cabi := c.p.cfg.ClientABI
	if b.Machine == "" {
		b.Machine = cabi.Machine
	}
	if b.OSType == "" {
		b.OSType, b.OSRelease = "NetBSD", sp.DefaultOSRelease
	}
	if !c.p.cfg.HideABI {
		b.ABI = cabi.Name
	}
	line := b.Line()
	if len(line) > sp.MaxBanner {
		b.ABI = ""
		line = b.Line()
	}
	if len(line) > sp.MaxBanner {
		b.OSRelease = sp.DefaultOSRelease
		line = b.Line()
	}
	_, err := io.WriteString(c.cc, line)
	return err
}

// refuseClient answers a client whose upstream is down: a banner, then an
// ERROR to its first request (RFORK_FAILED: EIO to a C client), then the
// connection closes.
func (c *conn) refuseClient() {
	c.cver = c.p.cfg.ClientVersion
	if c.cver == (sp.Version{}) {
		c.cver = sp.Version04
	}
	if err := c.sendBanner(sp.Banner{Version: c.cver}); err != nil {
		return
	}
	f, err := c.cfr.ReadFrame()
	if err != nil {
		return
	}
	c.clientError(f.Reqno, sp.ErrorRforkFailed)
}

func (c *conn) clientLoop() {
	for {
		f, err := c.readClient()
		if err != nil {
			if !errors.Is(err, io.EOF) && c.ctx.Err() == nil {
				c.log.Warn("client read failed; dropping the client", "err", err)
			}
			return
		}
		if !c.fromClient(f) {
			return
		}
	}
}

// readClient reads the client's next frame. Before the handshake it also
// notices a client whose header is in the other byte order, which only a
// declaration (or a parent's) can make sense of; firstHandshake checks.
func (c *conn) readClient() (*sp.Frame, error) {
	raw, err := c.cfr.ReadHeader()
	if err != nil {
		return nil, err
	}
	if !c.running.Load() {
		o := c.cfr.ByteOrder()
		if n := o.Uint64(raw[:8]); n < sp.HeaderSize || n > c.cfr.MaxFrame {
			other := abi.BigEndian.ByteOrder()
			if o == other {
				other = abi.LittleEndian.ByteOrder()
			}
			if n2 := other.Uint64(raw[:8]); n2 >= sp.HeaderSize && n2 <= c.cfr.MaxFrame {
				c.cfr.SetByteOrder(other)
			}
		}
	}
	return c.cfr.ReadBody(raw)
}

func (c *conn) upstreamLoop() {
	defer c.close() // the upstream left: so does the client
	for {
		f, err := c.ufr.ReadFrame()
		if err != nil {
			if c.ctx.Err() == nil {
				c.log.Info("upstream connection ended; closing the client", "err", err)
			}
			return
		}
		if !c.fromUpstream(f) {
			return
		}
	}
}

// teardown runs when the client's side ends: both connections close,
// the proxy's requests to the client fail, translations in flight are
// forgotten, and the client's unclaimed fork cookies are dropped.
func (c *conn) teardown() {
	c.close()
	c.mu.Lock()
	c.dead = true
	for r, ch := range c.down {
		close(ch)
		delete(c.down, r)
	}
	c.mu.Unlock()
	c.wg.Wait()
	c.mu.Lock()
	for r, pd := range c.up {
		if pd.call != nil {
			pd.call.Abort()
		}
		delete(c.up, r)
	}
	c.mu.Unlock()
	c.p.forks.dropOwner(c)
	c.log.Info("client disconnected")
}

// sendUp forwards a client request upstream under a number of the
// proxy's.
func (c *conn) sendUp(h sp.Header, body []byte, pd *pending) error {
	c.mu.Lock()
	reqno := c.nextUp
	c.nextUp++
	c.up[reqno] = pd
	c.mu.Unlock()
	pd.h = h
	h.Reqno = reqno
	if pd.reqno != reqno {
		c.note("client reqno %d is upstream reqno %d", pd.reqno, reqno)
	}
	if err := c.ufr.WriteFrame(h, body); err != nil {
		c.mu.Lock()
		delete(c.up, reqno)
		c.mu.Unlock()
		c.log.Info("write upstream failed", "frame", h.String(), "err", err)
		return err
	}
	return nil
}

// takeUp returns and forgets the pending request reqno answers.
func (c *conn) takeUp(reqno uint64) *pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	pd := c.up[reqno]
	delete(c.up, reqno)
	return pd
}

func (c *conn) sendClient(h sp.Header, body ...[]byte) error {
	err := c.cfr.WriteFrame(h, body...)
	if err != nil && c.ctx.Err() == nil {
		c.log.Info("write to client failed", "frame", h.String(), "err", err)
	}
	return err
}

// reserve counts a client request in flight; false beyond MaxInFlight.
func (c *conn) reserve() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight >= c.p.cfg.MaxInFlight {
		return false
	}
	c.inflight++
	return true
}

func (c *conn) release() {
	c.mu.Lock()
	c.inflight--
	c.mu.Unlock()
}

// helper starts fn on a goroutine the connection owns, unless too many
// run already (a misbehaving upstream); false then.
func (c *conn) helper(fn func()) bool {
	c.mu.Lock()
	if c.dead || c.helpers >= 2*c.p.cfg.MaxInFlight {
		c.mu.Unlock()
		return false
	}
	c.helpers++
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			c.helpers--
			c.mu.Unlock()
			c.wg.Done()
		}()
		fn()
	}()
	return true
}
