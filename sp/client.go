package sp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/internal/rawsock"
	"github.com/rumpsprig/sprig/sp/internal/xlate"
)

// ClientConfig configures a Client. Start from DefaultClientConfig.
type ClientConfig struct {
	// ABI is the client's own ABI.
	ABI *abi.Descriptor
	// Mode selects how the client copes with a server of another ABI.
	Mode Mode
	// ServerABI names the server's ABI for client-translates mode when
	// the banner cannot (C servers name only a machine word, which
	// several ABIs share). Nil: take it from the banner.
	ServerABI *abi.Descriptor
	// Version, when not zero, is the protocol era to speak; zero follows
	// the banner.
	Version Version
	// ProgramName goes into 0.4 GUEST and EXEC handshakes.
	ProgramName string
	// Memory serves the server's requests (COPYIN, COPYINSTR, COPYOUT,
	// ANONMMAP) from the client program's memory. The client calls it
	// from the goroutine reading the server's frames (a caller waiting
	// for its reply, or one of the client's own), one request at a
	// time. Nil refuses every request, so any syscall that passes a
	// pointer fails with EFAULT: a real client needs one (see
	// sptest.Memory).
	Memory Memory
	// OnSignal, when set, receives the signals the server raises
	// (RAISE requests), on the goroutine reading the server's frames.
	OnSignal func(sig int32)
	// FirstReqno is the number of the client's first request; the C
	// client starts at 1.
	FirstReqno uint64
	// TryAgain bounds how often a request is resent after TRYAGAIN.
	TryAgain int
	// ArgFill fills syscall-argument slot padding; C stubs write zero.
	ArgFill byte
	// Faithful makes the client read what the server sends the way the C
	// client does: every field at this ABI's offset whatever the body's
	// length (missing bytes read as zero, extra bytes ignored), and a
	// request it misread (its body has another size than this ABI's
	// layout) that points at memory the client does not have is a crash:
	// the client ends the connection with a *CrashError saying what the C
	// client would have done. A well-formed request for a bad address
	// still gets an empty reply, which the kernel turns into EFAULT.
	// Without Faithful, a body of the wrong size is an ErrBodySize error.
	Faithful bool
	// MaxFrame bounds the frames the server may send.
	MaxFrame uint64
	// Preload sends, with each syscall, the bytes it will copy in that
	// the client can know beforehand (write's buffer, open's path), in a
	// PRELOAD frame of sprig's, so that the server need not ask for them:
	// a pwrite or an open then costs one round trip, not two. It takes
	// effect only where the server's banner offers it (" preload=N",
	// sprig servers) and names the client's own ABI (so that the server
	// reads the client's layout), and never in client-translates mode.
	// With it, Memory's CopyIn and CopyInStr are also called from the
	// goroutine calling Syscall, while the reading goroutine may be
	// serving another syscall's requests: Memory must allow that. Off by
	// default: the wire then carries only NetBSD's own messages.
	Preload bool
	// ReadSpin is how long the caller reading the connection polls its
	// socket for the reply before it sleeps: CPU spent so that a reply on
	// its way needs no wakeup, where the client's process and its server
	// each have a CPU (see ServerConfig.ReadSpin). Default 0: never.
	ReadSpin time.Duration
	// Logger receives protocol events; nil discards them.
	Logger *slog.Logger
	// Trace, when set, sees every frame read or written.
	Trace func(Direction, *Frame)
}

// DefaultClientConfig returns a C-like client configuration for ABI d.
func DefaultClientConfig(d *abi.Descriptor) ClientConfig {
	return ClientConfig{ABI: d, ProgramName: "sprig", FirstReqno: 1, TryAgain: 1000, MaxFrame: DefaultMaxFrame}
}

func (c *ClientConfig) verify() error {
	switch {
	case c.ABI == nil:
		return errors.New("sp: client config: ABI is nil")
	case c.Mode > ModeClientTranslates:
		return fmt.Errorf("sp: client config: Mode %d is unknown", c.Mode)
	case c.Version != (Version{}) && c.Version != Version01 && c.Version != Version04:
		return fmt.Errorf("sp: client config: Version %s; want 0.1 or 0.4", c.Version)
	case c.MaxFrame < HeaderSize+64:
		return fmt.Errorf("sp: client config: MaxFrame %d is too small", c.MaxFrame)
	case c.TryAgain < 0:
		return errors.New("sp: client config: TryAgain is negative")
	case c.ReadSpin < 0 || c.ReadSpin > MaxReadSpin:
		return fmt.Errorf("sp: client config: ReadSpin %v; want 0 to %v", c.ReadSpin, MaxReadSpin)
	}
	return c.ABI.Validate()
}

// ErrClosed is returned for requests on a closed or dead connection.
var ErrClosed = errors.New("connection closed")

// ServerError is an ERROR frame the server answered a request with.
type ServerError struct {
	Req     Header
	Code    uint32 // as on the wire: enum (0.4) or errno (0.1)
	Version Version
}

func (e *ServerError) Error() string {
	if e.Version.HasEnumErrors() {
		return fmt.Sprintf("server answered %s %s with ERROR %s (%s)", e.Req.Class, e.Req.Type, ErrorCode(e.Code), e.Errno())
	}
	return fmt.Sprintf("server answered %s %s with ERROR errno %s", e.Req.Class, e.Req.Type, e.Errno())
}

// Errno is what a C client hands the application for this error.
func (e *ServerError) Errno() netbsd.Errno { return e.Version.errnoOfWire(e.Code) }

// Unwrap lets errors.Is match the errno.
func (e *ServerError) Unwrap() error { return e.Errno() }

// Client is a sysproxy client on one connection. Its methods are safe to
// call from several goroutines; many syscalls may be in flight at once.
type Client struct {
	cfg     ClientConfig
	rwc     io.ReadWriteCloser
	fr      *Framer
	banner  Banner
	version Version
	wire    *abi.Descriptor // lays out what goes on the wire
	codec   *Codec
	log     *slog.Logger
	xs      *xlate.Session // client-translates only
	preload uint64         // the most PRELOAD body bytes per syscall; 0: none sent

	w *waiters // request numbers and the syscalls waiting for replies
	r reading  // who reads the server's frames (clientread.go)

	ctx    context.Context // ends with the connection: bounds Memory calls
	cancel context.CancelFunc
	done   chan struct{}
	crash  *CrashError // set by the reading goroutine before it ends

	// The buffer the reading goroutine serves COPYINs of up to 64 KiB
	// into (copyIn).
	copyInBuf []byte
}

// NewClient reads the server's banner from rwc, settles the ABI it will
// speak, and starts serving the server's requests. It does not handshake.
func NewClient(rwc io.ReadWriteCloser, cfg ClientConfig) (*Client, error) {
	if err := cfg.verify(); err != nil {
		return nil, err
	}
	b, err := ReadBanner(rwc)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, rwc: rwc, banner: b, w: newWaiters(cfg.FirstReqno),
		done: make(chan struct{}), wire: cfg.ABI}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.log = cfg.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.version = cfg.Version
	if c.version == (Version{}) {
		c.version = b.Version
		if c.version != Version01 {
			c.version = Version04
		}
	}
	if cfg.Mode == ModeClientTranslates {
		c.wire = cfg.ServerABI
		if c.wire == nil {
			if c.wire, err = b.ServerABI(); err != nil {
				return nil, err
			}
		}
		c.xs = xlate.NewSession(xlate.NewPair(cfg.ABI, c.wire), xlate.DefaultConfig())
	}
	c.codec = NewCodec(c.wire)
	c.preload = usesPreload(&cfg, b)
	c.r.br = bufio.NewReaderSize(rawsock.Reader(rwc, cfg.ReadSpin), ReadBufferSize) // (see package rawsock)
	c.r.deadline, _ = rwc.(readDeadliner)
	c.fr = NewFramer(c.r.br, rwc, c.wire)
	c.fr.MaxFrame = cfg.MaxFrame
	c.fr.Trace = cfg.Trace
	c.fr.poolLarge = true // handle and request give every frame back
	return c, nil
}

// Dial connects to url ("" means $RUMP_SERVER) and returns a client that
// has read the banner.
func Dial(ctx context.Context, url string, cfg ClientConfig) (*Client, error) {
	var u *URL
	var err error
	if url == "" {
		u, err = URLFromEnv()
	} else {
		u, err = ParseURL(url)
	}
	if err != nil {
		return nil, err
	}
	conn, err := u.Dial(ctx)
	if err != nil {
		return nil, err
	}
	c, err := NewClient(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Banner returns the server's banner.
func (c *Client) Banner() Banner { return c.banner }

// Preloads reports whether the client sends its syscalls' copied-in
// bytes with them: it asked to (ClientConfig.Preload) and the server
// offers it.
func (c *Client) Preloads() bool { return c.preload > 0 }

// Version returns the protocol era in use.
func (c *Client) Version() Version { return c.version }

// WireABI returns the ABI the client lays frames out with: its own, or
// the server's in client-translates mode.
func (c *Client) WireABI() *abi.Descriptor { return c.wire }

// ABI returns the client's own ABI.
func (c *Client) ABI() *abi.Descriptor { return c.cfg.ABI }

// Close closes the connection; requests in flight fail with ErrClosed.
func (c *Client) Close() error {
	c.cancel()
	err := c.rwc.Close()
	// Ended here, not left to a reader: one that has its reply in hand
	// reads no more, and would leave Close waiting for ever.
	c.end(ErrClosed)
	<-c.done
	return err
}

// Done is closed when the connection has ended. Like NetBSD's C client,
// a Client reads from the server only while a call waits for a reply,
// so a server that hangs up on an idle client is noticed by its next
// call (or Close).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is alive.
func (c *Client) Err() error {
	return c.w.failure()
}

// HandshakeGuest introduces the client as a new process. In
// server-translates mode the body also declares the client's ABI.
func (c *Client) HandshakeGuest(ctx context.Context) error {
	var decl *abi.Descriptor
	if c.cfg.Mode == ModeServerTranslates {
		decl = c.cfg.ABI
	}
	body, err := guestBody(c.version, c.cfg.ProgramName, decl)
	if err != nil {
		return err
	}
	return c.handshake(ctx, HandshakeGuest, body)
}

// HandshakeFork claims the process a PREFORK on another connection made,
// or with cancel drops it (the server then closes this connection).
func (c *Client) HandshakeFork(ctx context.Context, ck Cookie, cancel bool) error {
	return c.handshake(ctx, HandshakeFork, c.codec.HandshakeFork(ck, cancel))
}

// HandshakeExec tells the server the process exec'd a new program.
func (c *Client) HandshakeExec(ctx context.Context, name string) error {
	if !c.version.HasExec() {
		return fmt.Errorf("sp: EXEC handshake needs protocol 0.4, speaking %s", c.version)
	}
	return c.handshake(ctx, HandshakeExec, append([]byte(name), 0))
}

func (c *Client) handshake(ctx context.Context, kind HandshakeKind, body []byte) error {
	f, err := c.roundTrip(ctx, Header{Class: ClassReq, Type: TypeHandshake, U: uint32(kind)}, body, nil, nil)
	if err != nil {
		return fmt.Errorf("sp: %s handshake: %w", kind, err)
	}
	v, err := c.codec.ParseInt(c.fit(f.Body, c.wire.Int.Size))
	if err != nil {
		return fmt.Errorf("sp: %s handshake reply: %w", kind, err)
	}
	if v != 0 {
		return fmt.Errorf("sp: %s handshake refused with %d", kind, v)
	}
	return nil
}

// Prefork asks the server to fork this client's process and returns the
// cookie a new connection presents in HandshakeFork.
func (c *Client) Prefork(ctx context.Context) (Cookie, error) {
	var ck Cookie
	f, err := c.roundTrip(ctx, Header{Class: ClassReq, Type: TypePrefork}, nil, nil, nil)
	if err != nil {
		return ck, fmt.Errorf("sp: prefork: %w", err)
	}
	if len(f.Body) != CookieSize {
		return ck, fmt.Errorf("sp: prefork reply: %w: %d bytes, want %d", ErrBodySize, len(f.Body), CookieSize)
	}
	copy(ck[:], f.Body)
	return ck, nil
}

// Fork makes a child process the way a forking C client does: PREFORK on
// this connection, then a FORK handshake on conn, a new connection to the
// same server. The child client uses cfg (its Memory is the child's
// address space; its ABI should be this client's) and owns conn.
func (c *Client) Fork(ctx context.Context, conn io.ReadWriteCloser, cfg ClientConfig) (*Client, error) {
	ck, err := c.Prefork(ctx)
	if err != nil {
		conn.Close()
		return nil, err
	}
	child, err := NewClient(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := child.HandshakeFork(ctx, ck, false); err != nil {
		child.Close()
		return nil, err
	}
	return child, nil
}

// Syscall runs syscall num with one value per argument, PAD arguments
// excluded, laid out by NetBSD's slot rule for the wire ABI. Each value
// is any Go integer (int, uint64, uintptr, named integer types): -1 for
// an fd, a pointer as the client's address. The error reports a protocol
// or transport failure; the syscall's own failure is the Result's Errno
// (see Result.Err).
//
// The Result is in the client's own conventions: on an ABI with a 32-bit
// register_t a 64-bit result such as lseek's off_t spans Retval[0] and
// Retval[1]; Result.Off joins it.
func (c *Client) Syscall(ctx context.Context, num netbsd.Sysno, args ...any) (Result, error) {
	var room [maxArgs]uint64 // NetBSD's syscalls take at most 8 arguments
	vals := room[:0]
	for i, a := range args {
		v, ok := argValue(a)
		if !ok {
			return Result{}, fmt.Errorf("sp: %s: argument %d is a %T, not an integer", num, i, a)
		}
		vals = append(vals, v)
	}
	return c.syscall(ctx, num, vals)
}

// SyscallValues is Syscall with each argument given as its bit pattern
// (a negative int as uint64(int64(v)), a pointer as the client's
// address). Unlike Syscall's, its arguments need no boxing into an
// interface, which allocates for any value of 256 or more (an address,
// say): a caller in a loop that uses it allocates nothing for them.
func (c *Client) SyscallValues(ctx context.Context, num netbsd.Sysno, vals ...uint64) (Result, error) {
	return c.syscall(ctx, num, vals)
}

// Room on the stack for a syscall's arguments and their struct: more
// takes an allocation, fewer none.
const (
	maxArgs       = 8
	maxArgsStruct = 8 * maxArgs
)

func (c *Client) syscall(ctx context.Context, num netbsd.Sysno, args []uint64) (Result, error) {
	a := c.codec.l.Args(num)
	if a == nil && len(args) > 0 {
		return Result{}, fmt.Errorf("sp: %s: arguments of an undescribed syscall; use SyscallBody", num)
	}
	var call *xlate.Call
	if c.xs != nil && a != nil {
		var err error
		if call, args, err = c.xs.Begin(ctx, c.cfg.Memory, num, args); err != nil {
			// What cannot be translated is refused, never sent mangled.
			rf := xlate.IsRefusal(err)
			if rf == nil {
				return Result{}, fmt.Errorf("sp: %s: %w", num, err)
			}
			c.log.Info("syscall refused: cannot translate it", "why", rf.Error())
			return Result{Errno: rf.Errno, abi: c.cfg.ABI}, nil
		}
	}
	var room [maxArgsStruct]byte
	var body []byte
	if a != nil && (a.Size > 0 || len(args) > 0) { // (getpid's has nothing to encode)
		var err error
		if body, err = a.AppendEncode(room[:0], c.cfg.ArgFill, args...); err != nil {
			if call != nil {
				call.Abort()
			}
			return Result{}, fmt.Errorf("sp: %s: %w", num, err)
		}
	}
	var pre []byte
	if plan := c.preloadPlan(num); plan != nil {
		var pooled []byte
		pre, pooled = c.preloadFor(ctx, plan, args)
		defer putPreloadBuffer(pooled) // once the request is written
	}
	r, err := c.request(ctx, num, body, pre, call)
	if call != nil {
		if err != nil {
			if !errors.As(err, new(*givenUpError)) {
				call.Abort() // else the waiters forget it (giveUp)
			}
		} else {
			if why := call.Spoiled(); why != "" {
				c.log.Info("typed data could not be translated; answering ENOSYS", "syscall", num.String(), "why", why)
			}
			r.Errno, r.Retval = call.End(r.Errno, r.Retval)
		}
	}
	return r, err
}

// argValue returns an integer argument's bit pattern: signed values
// sign-extended, so -1 is all ones.
func argValue(a any) (uint64, bool) {
	switch v := a.(type) {
	case int:
		return uint64(v), true
	case int32:
		return uint64(v), true
	case int64:
		return uint64(v), true
	case uint:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	case uintptr:
		return uint64(v), true
	}
	rv := reflect.ValueOf(a)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return uint64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint(), true
	}
	return 0, false
}

// SyscallBody runs syscall num with a ready-made argument struct in the
// wire ABI's layout, for syscalls sprig does not describe. No typed data
// is translated in client-translates mode.
func (c *Client) SyscallBody(ctx context.Context, num netbsd.Sysno, body []byte) (Result, error) {
	return c.request(ctx, num, body, nil, nil)
}

// request runs syscall num with argument struct body, preceded by
// PRELOAD frame pre when that is not empty; call, when not nil, is the
// translated call behind it.
func (c *Client) request(ctx context.Context, num netbsd.Sysno, body, pre []byte, call *xlate.Call) (Result, error) {
	f, err := c.roundTrip(ctx, Header{Class: ClassReq, Type: TypeSyscall, U: uint32(num)}, body, pre, call)
	if err != nil {
		return Result{}, fmt.Errorf("sp: %s: %w", num, err)
	}
	r, err := c.codec.ParseSysresp(c.fit(f.Body, c.codec.SysrespSize()))
	c.fr.reuse(f) // parsed: nothing refers to it
	if err != nil {
		return Result{}, fmt.Errorf("sp: %s reply: %w", num, err)
	}
	r.abi = c.cfg.ABI
	return r, nil
}

// roundTrip sends a request and waits for its response, resending after
// TRYAGAIN as the C client does. call, when not nil, is the translated
// call the request carries (see giveUp).
func (c *Client) roundTrip(ctx context.Context, h Header, body, pre []byte, call *xlate.Call) (*Frame, error) {
	for try := 0; ; try++ {
		f, err := c.once(ctx, h, body, pre, call)
		if err != nil {
			return nil, err
		}
		if f.Class != ClassError {
			return f, nil
		}
		if c.version.HasEnumErrors() && ErrorCode(f.U) == ErrorTryAgain && try < c.cfg.TryAgain {
			select {
			case <-time.After(time.Duration(min(try+1, 50)) * 100 * time.Microsecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		return nil, &ServerError{Req: h, Code: f.U, Version: c.version}
	}
}

func (c *Client) once(ctx context.Context, h Header, body, pre []byte, call *xlate.Call) (*Frame, error) {
	if err := expired(ctx); err != nil {
		return nil, err
	}
	done := ctx.Done()
	if c.leadFirst(done) {
		return c.onceLeading(ctx, done, h, body, pre, call)
	}
	reqno, ch, err := c.w.add()
	if err != nil {
		return nil, err
	}
	h.Reqno = reqno
	if err := c.send(h, body, pre); err != nil {
		c.w.remove(reqno)
		// Part of the frame may have gone: the stream is lost.
		c.end(err)
		return nil, fmt.Errorf("%w: %v", ErrClosed, err)
	}
	if c.lead(done, ch) {
		f, err := c.readUntilAnswered(ctx, done, reqno, true)
		if f != nil {
			return f, nil // claimed: the waiter is gone already
		}
		if err != nil {
			return nil, c.giveUpReading(reqno, call, err)
		}
	}
	defer c.w.remove(reqno)
	// A reply another goroutine read may be here already; a
	// non-blocking receive costs far less than a select in Go's wasm.
	select {
	case f, ok := <-ch:
		return c.answer(f, ok)
	default:
	}
	select {
	case f, ok := <-ch:
		return c.answer(f, ok)
	case <-ctx.Done():
		return nil, c.giveUp(reqno, call, ctx.Err())
	}
}

// onceLeading is once for a caller that became the reader before it
// sent its request (leadFirst): nobody else can read its reply, so it
// needs no waiter, and the request costs no registration and no claim.
// A caller that gives up stays the reader until giveUp has recorded
// what its late reply must find.
func (c *Client) onceLeading(ctx context.Context, done <-chan struct{}, h Header, body, pre []byte, call *xlate.Call) (*Frame, error) {
	h.Reqno = c.w.number()
	if err := c.sendLeading(h, body, pre); err != nil {
		// Part of the frame may have gone: the stream is lost.
		c.end(err) // (its reading ends with it)
		return nil, fmt.Errorf("%w: %v", ErrClosed, err)
	}
	f, err := c.readUntilAnswered(ctx, done, h.Reqno, false)
	switch {
	case f != nil:
		return f, nil
	case err != nil:
		return nil, c.giveUpReading(h.Reqno, call, err)
	}
	return nil, c.Err() // the connection ended
}

// sendLeading writes the request of a caller that leads. Should a Trace
// hook or the writer panic, the caller stops being the reader, so that
// one who recovers finds the client working.
func (c *Client) sendLeading(h Header, body, pre []byte) error {
	sent := false
	defer func() {
		if !sent {
			c.releaseDisarmed()
		}
	}()
	err := c.send(h, body, pre)
	sent = true
	return err
}

// send writes request h with body, after pre when that is not empty: a
// PRELOAD frame for the same reqno (preloadFor), in one write.
func (c *Client) send(h Header, body, pre []byte) error {
	if len(pre) == 0 {
		return c.fr.writeOne(h, body)
	}
	return c.fr.writeAfterFrame(pre, Header{Reqno: h.Reqno, Class: ClassReq, Type: TypePreload}, h, body)
}

// answer is what a caller's channel gave it: its reply, or (closed) why
// the connection ended.
func (c *Client) answer(f *Frame, ok bool) (*Frame, error) {
	if !ok {
		return nil, c.Err()
	}
	return f, nil
}

// handle acts on one frame from the server, on the reading goroutine.
func (c *Client) handle(f *Frame) {
	if f.Class == ClassReq {
		c.serve(f)
		c.fr.reuse(f) // served: Memory keeps none of it (see Memory.CopyOut)
		return
	}
	if f.Class != ClassResp && f.Class != ClassError {
		// The C client loops forever here; an unknown class is no
		// answer to anything, so it must not complete a request.
		c.log.Warn("frame of unknown class from server", "frame", f.Header.String())
		return
	}
	if !c.w.deliver(f) {
		c.log.Info("response to no outstanding request", "frame", f.Header.String())
	}
}

// end ends the connection after a failed read (or Close of an idle
// client): every waiter, present and future, fails with the reason.
func (c *Client) end(err error) {
	c.r.endOnce.Do(func() {
		if c.crash != nil {
			c.w.fail(fmt.Errorf("%w: %w", ErrClosed, c.crash))
		} else {
			c.w.fail(fmt.Errorf("%w: %v", ErrClosed, err))
		}
		c.rwc.Close()
		c.cancel()
		c.unwatch()
		c.r.mu.Lock()
		c.r.ended = true
		c.r.mu.Unlock()
		close(c.done)
	})
}

var errNoMemory = errors.New("client has no memory to serve requests from")

// CrashError is how a Faithful client ends a connection where the C
// client would have crashed: it decoded an address it cannot touch.
type CrashError struct {
	// What says what the C client would have done, and with what bytes.
	What string
}

func (e *CrashError) Error() string { return "a C client would crash here: " + e.What }

// fit gives a Faithful client's view of a body of want bytes: cut to
// size, or padded with the zeros a C client would find past a short
// body. Otherwise the body is returned as it is, for strict decoding.
func (c *Client) fit(body []byte, want int) []byte {
	if !c.cfg.Faithful || len(body) == want {
		return body
	}
	out := make([]byte, want)
	copy(out, body)
	return out
}

// misread reports whether a Faithful client read a body of another
// size than its layout has: the bytes it used are not the ones meant.
func (c *Client) misread(body []byte, want int) bool {
	return c.cfg.Faithful && len(body) != want
}

// crashed ends the connection as a crashed C client would.
func (c *Client) crashed(format string, args ...any) {
	c.crash = &CrashError{What: fmt.Sprintf(format, args...)}
	c.log.Warn("ending the connection where a C client would crash", "what", c.crash.What)
	c.rwc.Close()
}
