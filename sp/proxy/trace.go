package proxy

import (
	"fmt"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// Side names one of a proxied connection's two sides.
type Side uint8

// The sides.
const (
	SideClient Side = iota // between the client and the proxy
	SideServer             // between the proxy and the upstream server
)

func (s Side) String() string {
	if s == SideServer {
		return "server"
	}
	return "client"
}

// Event is what Config.Trace sees: a frame on one side of the proxy, in
// that side's layout, or a note saying what was translated.
type Event struct {
	Conn  uint64
	Side  Side
	Dir   sp.Direction // seen from the proxy
	ABI   *abi.Descriptor
	Frame *sp.Frame // nil for a note
	Note  string
}

// String renders the event on one line: the direction, the layout, the
// header and what the body says in that layout.
func (e Event) String() string {
	if e.Frame == nil {
		return fmt.Sprintf("conn %d   ~ %s", e.Conn, e.Note)
	}
	arrow := map[[2]uint8]string{
		{uint8(SideClient), uint8(sp.Received)}: "client → proxy",
		{uint8(SideClient), uint8(sp.Sent)}:     "proxy → client",
		{uint8(SideServer), uint8(sp.Sent)}:     "proxy → server",
		{uint8(SideServer), uint8(sp.Received)}: "server → proxy",
	}[[2]uint8{uint8(e.Side), uint8(e.Dir)}]
	name := "?"
	if e.ABI != nil {
		name = e.ABI.Name
	}
	s := fmt.Sprintf("conn %d %s [%s] %s", e.Conn, arrow, name, e.Frame.Header)
	if e.ABI != nil {
		if b := DescribeBody(e.ABI, e.Frame); b != "" {
			s += ": " + b
		}
	}
	return s
}

// DescribeBody says what a frame's body holds, read in ABI d's layout:
// a syscall's arguments by name, an rsp_sysresp, an rsp_copydata, a
// handshake. Bodies it cannot read are summed up by their length.
func DescribeBody(d *abi.Descriptor, f *sp.Frame) string {
	cd := sp.NewCodec(d)
	switch {
	case f.Class == sp.ClassReq && f.Type == sp.TypeSyscall:
		num := netbsd.Sysno(f.U)
		a := netbsd.LayoutsFor(d).Args(num)
		if a == nil {
			return fmt.Sprintf("%s(%d bytes)", num, len(f.Body))
		}
		vals, missing := a.Decode(f.Body)
		var parts []string
		vi := 0
		for _, sl := range a.Slots {
			if sl.Pad() {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s=%#x", sl.Name, vals[vi]))
			vi++
		}
		s := fmt.Sprintf("%s(%s) %d bytes", num, strings.Join(parts, ", "), len(f.Body))
		if missing > 0 {
			s += fmt.Sprintf(", %d missing", missing)
		}
		return s
	case f.Class == sp.ClassResp && f.Type == sp.TypeSyscall:
		r, err := cd.ParseSysresp(f.Body)
		if err != nil {
			return fmt.Sprintf("%d bytes: %v", len(f.Body), err)
		}
		return fmt.Sprintf("rsp_sysresp{error %d, retval %#x %#x} %d bytes", r.Errno, r.Retval[0], r.Retval[1], len(f.Body))
	case f.Class == sp.ClassReq && (f.Type == sp.TypeCopyIn || f.Type == sp.TypeCopyInStr):
		n, addr, _, err := cd.ParseCopydata(f.Body, false)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("rsp_copydata{len %d, addr %#x}", n, addr)
	case f.Class == sp.ClassReq && (f.Type == sp.TypeCopyOut || f.Type == sp.TypeCopyOutStr):
		n, addr, data, err := cd.ParseCopydata(f.Body, true)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("rsp_copydata{len %d, addr %#x} % x", n, addr, head(data))
	case f.Class == sp.ClassResp && (f.Type == sp.TypeCopyIn || f.Type == sp.TypeCopyInStr):
		return fmt.Sprintf("%d bytes % x", len(f.Body), head(f.Body))
	case f.Class == sp.ClassReq && f.Type == sp.TypeAnonMmap:
		n, err := cd.ParseSize(f.Body)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("size %d", n)
	case f.Class == sp.ClassResp && f.Type == sp.TypeAnonMmap:
		a, err := cd.ParsePointer(f.Body)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("addr %#x", a)
	case f.Class == sp.ClassReq && f.Type == sp.TypeHandshake && sp.HandshakeKind(f.U) == sp.HandshakeFork:
		ck, cancel, err := cd.ParseHandshakeFork(f.Body)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("cookie %x… cancel %v", ck[:4], cancel)
	case f.Class == sp.ClassReq && f.Type == sp.TypeHandshake:
		name, decl := splitGuestBody(f.Body)
		if decl != nil {
			return fmt.Sprintf("name %q + sprig-abi declaration (%d bytes)", name, len(decl))
		}
		return fmt.Sprintf("name %q", name)
	case f.Class == sp.ClassResp && f.Type == sp.TypeHandshake:
		v, err := cd.ParseInt(f.Body)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("int %d", v)
	case f.Class == sp.ClassResp && f.Type == sp.TypePrefork:
		return fmt.Sprintf("cookie %x…", head(f.Body)[:min(4, len(f.Body))])
	case f.Class == sp.ClassReq && f.Type == sp.TypeRaise:
		return netbsd.Signal(f.U).String()
	}
	if len(f.Body) > 0 {
		return fmt.Sprintf("%d bytes", len(f.Body))
	}
	return ""
}

func head(b []byte) []byte { return b[:min(len(b), 16)] }
