package rig

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

// Tracer prints every syscall a server runs in strace style, from the
// frames the server sees:
//
//	arm64 → open("/tmp/a", O_CREAT|O_RDWR, 0644) = 3
//
// Arguments are decoded with the ABI the server assumed for the client,
// so in native mode across mismatched machines the line shows what the
// server really understood. Strings appear once the server has copied
// them in.
type Tracer struct {
	w     io.Writer
	label string

	mu    sync.Mutex
	conns map[uint64]*traceConn
}

type traceConn struct {
	calls   map[uint64]*tracedCall // by client reqno
	strReqs map[uint64]uint64      // server COPYINSTR reqno → address
}

type tracedCall struct {
	sc   *netbsd.Syscall
	num  netbsd.Sysno
	args []uint64
	strs map[uint64]string // copied-in strings by address
}

// NewTracer writes lines for a client labelled label (its ABI name) to w.
func NewTracer(w io.Writer, label string) *Tracer {
	return &Tracer{w: w, label: label, conns: map[uint64]*traceConn{}}
}

// Frame is an sp.ServerConfig.Trace hook.
func (t *Tracer) Frame(c *sp.ConnInfo, d sp.Direction, f *sp.Frame) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tc := t.conns[c.ID]
	if tc == nil {
		tc = &traceConn{calls: map[uint64]*tracedCall{}, strReqs: map[uint64]uint64{}}
		t.conns[c.ID] = tc
	}
	codec := sp.NewCodec(c.ABI)
	switch {
	case d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypeSyscall:
		call := &tracedCall{num: netbsd.Sysno(f.U), sc: netbsd.Lookup(netbsd.Sysno(f.U)), strs: map[uint64]string{}}
		if a := netbsd.LayoutsFor(c.ABI).Args(call.num); a != nil {
			call.args, _ = a.Decode(f.Body)
		}
		tc.calls[f.Reqno] = call
	case d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypeHandshake:
		fmt.Fprintf(t.w, "%s → %s handshake%s\n", t.label, sp.HandshakeKind(f.U), guestName(f))
	case d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypePrefork:
		fmt.Fprintf(t.w, "%s → PREFORK\n", t.label)
	case d == sp.Sent && f.Class == sp.ClassReq && f.Type == sp.TypeCopyInStr:
		if _, addr, _, err := codec.ParseCopydata(f.Body, false); err == nil {
			tc.strReqs[f.Reqno] = addr
		}
	case d == sp.Received && f.Class == sp.ClassResp && f.Type == sp.TypeCopyIn:
		if addr, ok := tc.strReqs[f.Reqno]; ok {
			delete(tc.strReqs, f.Reqno)
			s := string(bytes.TrimRight(f.Body, "\x00"))
			for _, call := range tc.calls {
				call.strs[addr] = s
			}
		}
	case d == sp.Sent && f.Class == sp.ClassReq && f.Type == sp.TypeRaise:
		fmt.Fprintf(t.w, "%s ← RAISE %s\n", t.label, netbsd.Signal(f.U))
	case d == sp.Sent && f.Class == sp.ClassResp && f.Type == sp.TypeSyscall:
		call := tc.calls[f.Reqno]
		delete(tc.calls, f.Reqno)
		if call == nil {
			return
		}
		fmt.Fprintf(t.w, "%s → %s = %s\n", t.label, call.format(), result(codec, c.ABI, call, f.Body))
	case d == sp.Sent && f.Class == sp.ClassError:
		fmt.Fprintf(t.w, "%s ← ERROR %d (reqno %d)\n", t.label, f.U, f.Reqno)
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

func (c *tracedCall) format() string {
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

func result(codec *sp.Codec, d *abi.Descriptor, c *tracedCall, body []byte) string {
	r, err := codec.ParseSysresp(body)
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
	return strconv.FormatInt(r.Int(), 10)
}
