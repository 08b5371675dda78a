// Package strace prints sysproxy conversations the way strace prints
// system calls, one line per syscall with its decoded arguments and
// result:
//
//	arm64 → open("/tmp/a", O_CREAT|O_RDWR, 0644) = 3
//	arm64 ← RAISE SIGUSR1
//
// A Tracer decodes the frames one side of a connection sees (a server's
// with ServerFrame, a client's with ClientFrame) with the ABI that side
// lays them out in, so across mismatched machines a line shows what that
// side really understood. It is for people reading traces, not for
// programs: the format may change.
package strace

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// Tracer writes one line per syscall, handshake, PREFORK, RAISE and
// ERROR of the connections it sees. Strings appear once the server has
// copied them in. It is safe for concurrent use.
type Tracer struct {
	w     io.Writer
	label string
	// Limit, when positive, keeps the newest Limit lines in memory
	// instead of writing them (see Lines), for a trace to show only
	// when something failed.
	limit int
	lines []line

	mu    sync.Mutex
	conns map[uint64]*traceConn
}

type traceConn struct {
	calls   map[uint64]*tracedCall // by client reqno
	strReqs map[uint64]uint64      // server COPYINSTR reqno → address
	codec   *sp.Codec              // for the ABI the connection's frames are read in
	// preStrs are the strings the last PRELOAD carried, for the SYSCALL
	// of reqno preReqno, which follows it.
	preReqno uint64
	preStrs  map[uint64]string
}

// line is one line of a ring Tracer: its text, or a finished syscall
// whose text is made only if somebody asks for the lines. A ring traces
// every syscall of a scenario and shows only a failed one's, so
// formatting each as it finished was wasted work in the guest.
type line struct {
	text string
	lbl  string
	call *tracedCall // no longer changes: its reply has come
	resp []byte      // the SYSCALL response body
}

func (l *line) String() string {
	if l.call == nil {
		return l.text
	}
	return fmt.Sprintf("%s → %s = %s", l.lbl, l.call.format(), result(l.call, l.resp))
}

type tracedCall struct {
	sc    *netbsd.Syscall
	num   netbsd.Sysno
	codec *sp.Codec // the wire ABI's
	raw   []byte    // the request body, until decoded
	done  bool      // decoded
	args  []uint64
	strs  map[uint64]string // copied-in strings by address; nil until one is
}

// New returns a Tracer that writes lines for a client labelled label
// (its ABI name) to w. An empty label labels each line with its
// connection and the ABI its frames are read in ("#3 i386"), for a
// server with many clients.
func New(w io.Writer, label string) *Tracer {
	return &Tracer{w: w, label: label, conns: map[uint64]*traceConn{}}
}

// NewRing returns a Tracer that keeps the newest n lines instead of
// writing them; Lines returns them.
func NewRing(n int, label string) *Tracer {
	return &Tracer{limit: n, label: label, conns: map[uint64]*traceConn{}}
}

// Lines returns the lines a NewRing Tracer kept, oldest first.
func (t *Tracer) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, len(t.lines))
	for i := range t.lines {
		out[i] = t.lines[i].String()
	}
	return out
}

func (t *Tracer) printf(format string, a ...any) {
	t.emit(line{text: fmt.Sprintf(format, a...)})
}

// emit writes l, or keeps it in the ring.
func (t *Tracer) emit(l line) {
	if t.limit <= 0 {
		fmt.Fprintln(t.w, l.String())
		return
	}
	if len(t.lines) == t.limit {
		t.lines = append(t.lines[:0], t.lines[1:]...)
	}
	t.lines = append(t.lines, l)
}

// ServerFrame is an sp.ServerConfig.Trace hook: it sees frames as a
// server does, laid out in the ABI the server assumes for the client.
func (t *Tracer) ServerFrame(c *sp.ConnInfo, d sp.Direction, f *sp.Frame) {
	t.frame(c.ID, c.ABI, d, f)
}

// ClientFrame returns an sp.ClientConfig.Trace hook for a client whose
// frames are laid out in wire (sp.Client.WireABI); conn tells one
// connection of the tracer from another.
func (t *Tracer) ClientFrame(conn uint64, wire *abi.Descriptor) func(sp.Direction, *sp.Frame) {
	return func(d sp.Direction, f *sp.Frame) {
		// What a client sends, a server receives.
		if d == sp.Sent {
			d = sp.Received
		} else {
			d = sp.Sent
		}
		t.frame(conn, wire, d, f)
	}
}

// frame follows one frame of connection conn, d seen from the server.
func (t *Tracer) frame(conn uint64, wire *abi.Descriptor, d sp.Direction, f *sp.Frame) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tc := t.conns[conn]
	if tc == nil {
		tc = &traceConn{calls: map[uint64]*tracedCall{}, strReqs: map[uint64]uint64{}}
		t.conns[conn] = tc
	}
	if tc.codec == nil || tc.codec.ABI != wire {
		tc.codec = sp.NewCodec(wire)
	}
	codec := tc.codec
	lbl := t.label
	if lbl == "" {
		lbl = fmt.Sprintf("#%d %s", conn, wire.Name)
	}
	switch {
	case d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypeSyscall:
		call := &tracedCall{num: netbsd.Sysno(f.U), codec: codec, raw: f.Body}
		if t.limit > 0 {
			call.raw = bytes.Clone(f.Body) // decoded only if the line is shown
		} else {
			call.decode()
		}
		if tc.preStrs != nil && tc.preReqno == f.Reqno {
			call.strs = tc.preStrs
		}
		tc.preStrs = nil
		tc.calls[f.Reqno] = call
	case d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypePreload:
		// The strings a preloading client sent with its syscall (open's
		// path) are shown as a COPYINSTR's answer would be.
		tc.preStrs = nil
		if es, err := codec.ParsePreload(f.Body); err == nil {
			for _, e := range es {
				if i := bytes.IndexByte(e.Data, 0); i >= 0 && i == len(e.Data)-1 {
					if tc.preStrs == nil {
						tc.preStrs = map[uint64]string{}
					}
					tc.preStrs[e.Addr] = string(e.Data[:i])
				}
			}
			tc.preReqno = f.Reqno
		}
	case d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypeHandshake:
		t.printf("%s → %s handshake%s", lbl, sp.HandshakeKind(f.U), guestName(f))
	case d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypePrefork:
		t.printf("%s → PREFORK", lbl)
	case d == sp.Sent && f.Class == sp.ClassReq && f.Type == sp.TypeCopyInStr:
		if _, addr, _, err := codec.ParseCopydata(f.Body, false); err == nil {
			tc.strReqs[f.Reqno] = addr
		}
	case d == sp.Received && f.Class == sp.ClassResp && f.Type == sp.TypeCopyIn:
		if addr, ok := tc.strReqs[f.Reqno]; ok {
			delete(tc.strReqs, f.Reqno)
			s := string(bytes.TrimRight(f.Body, "\x00"))
			for _, call := range tc.calls {
				if call.strs == nil {
					call.strs = map[uint64]string{}
				}
				call.strs[addr] = s
			}
		}
	case d == sp.Sent && f.Class == sp.ClassReq && f.Type == sp.TypeRaise:
		t.printf("%s ← RAISE %s", lbl, netbsd.Signal(f.U))
	case d == sp.Sent && f.Class == sp.ClassResp && f.Type == sp.TypeSyscall:
		call := tc.calls[f.Reqno]
		delete(tc.calls, f.Reqno)
		if call == nil {
			return
		}
		t.emit(line{lbl: lbl, call: call, resp: bytes.Clone(f.Body)})
	case d == sp.Sent && f.Class == sp.ClassError:
		t.printf("%s ← ERROR %d (reqno %d)", lbl, f.U, f.Reqno)
	}
}

func guestName(f *sp.Frame) string {
	if sp.HandshakeKind(f.U) != sp.HandshakeGuest && sp.HandshakeKind(f.U) != sp.HandshakeExec {
		return ""
	}
	name, _, _ := bytes.Cut(f.Body, []byte{0})
	if len(name) == 0 {
		return ""
	}
	return " " + strconv.Quote(string(name))
}

// decode reads the call's arguments from its request body, once.
func (c *tracedCall) decode() {
	if c.done {
		return
	}
	c.done = true
	c.sc = netbsd.Lookup(c.num)
	if a := c.codec.Layouts().Args(c.num); a != nil {
		c.args, _ = a.Decode(c.raw)
	}
	c.raw = nil
}

func (c *tracedCall) format() string {
	c.decode()
	if c.sc == nil {
		return c.num.String() + "(...)"
	}
	var parts []string
	vi := 0
	for _, a := range c.sc.Args {
		if a.Type == abi.Pad {
			continue
		}
		if vi >= len(c.args) {
			break
		}
		parts = append(parts, formatArg(c, a, c.args[vi]))
		vi++
	}
	return c.sc.Name + "(" + strings.Join(parts, ", ") + ")"
}

func formatArg(c *tracedCall, a abi.Field, v uint64) string {
	tn := a.Type.Name()
	switch {
	case tn == "const char *":
		if s, ok := c.strs[v]; ok {
			return strconv.Quote(s)
		}
		return fmt.Sprintf("%#x", v)
	case strings.HasSuffix(tn, "*"):
		if v == 0 {
			return "NULL"
		}
		return fmt.Sprintf("%#x", v)
	case a.Name == "flags" && c.num == netbsd.SYS_open:
		return netbsd.OpenFlagsString(uint32(v))
	case tn == "mode_t":
		return fmt.Sprintf("%#o", v)
	case a.Name == "signum":
		return netbsd.Signal(v).String()
	}
	return strconv.FormatInt(int64(v), 10)
}

func result(c *tracedCall, body []byte) string {
	c.decode()
	r, err := c.codec.ParseSysresp(body)
	if err != nil {
		return "?"
	}
	if r.Errno != 0 {
		return fmt.Sprintf("-1 %s", r.Errno.Error())
	}
	if c.sc == nil {
		return strconv.FormatUint(r.Retval[0], 10)
	}
	switch c.sc.Ret {
	case netbsd.RetTwo:
		return fmt.Sprintf("%d, %d", r.Retval[0], r.Retval[1])
	case netbsd.RetOff:
		return strconv.FormatInt(r.Off(), 10)
	case netbsd.RetPointer:
		return fmt.Sprintf("%#x", r.Retval[0])
	}
	if c.num == netbsd.SYS_umask {
		return fmt.Sprintf("%#o", r.Int()) // the previous mask, a mode_t
	}
	return strconv.FormatInt(r.Int(), 10)
}
