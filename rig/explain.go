package rig

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
)

// explain adds the server's side to a failure the guest reported: where
// the server put the wrong field, and what it wrote there.
func explain(p Pair, obs *observer, r guestapi.Result) string {
	if r.Status != guestapi.Fail {
		return ""
	}
	server := obs.serverABI()
	if server == nil {
		server = p.Server
	}
	switch r.Layer {
	case guestapi.LayerData:
		switch {
		case r.Field == nil:
			return ""
		case r.Field.Struct != "":
			return explainField(p, server, obs, r.Field)
		case strings.Contains(r.Field.Path, "retval["):
			return explainRetval(p, server, obs, r.Field.Path)
		}
		call := r.Field.Call
		if call == "" {
			call, _, _ = strings.Cut(r.Field.Path, " ")
		}
		if e := explainArgs(p, server, obs, call); e != "" {
			return e
		}
		return explainRetval(p, server, obs, "retval[0]")
	case guestapi.LayerDisconnect:
		if p.Client.Endian != server.Endian && strings.Contains(r.Detail, "handshake") {
			n := obs.handshakeLen()
			if n == 0 {
				return fmt.Sprintf("frame header: %s writes the 8-byte frame length %s-endian and %s reads it %s-endian, as an absurd size; a C server drops the connection",
					p.Client.Name, p.Client.Endian, server.Name, server.Endian)
			}
			return fmt.Sprintf("frame header: %s wrote len %d %s-endian; %s reads those 8 bytes %s-endian as %d, beyond any frame limit, and a C server drops the connection",
				p.Client.Name, n, p.Client.Endian, server.Name, server.Endian, bits.ReverseBytes64(n))
		}
	case guestapi.LayerDecoding:
		if strings.Contains(r.Detail, "rsp_sysresp") {
			return fmt.Sprintf("rsp_sysresp: server (%s layout) %s; client (%s) %s",
				server.Name, describe(netbsd.LayoutsFor(server).Sysresp), p.Client.Name, describe(netbsd.LayoutsFor(p.Client).Sysresp))
		}
	}
	return ""
}

func explainField(p Pair, server *abi.Descriptor, obs *observer, f *guestapi.FieldMismatch) string {
	t := netbsd.StructByName(f.Struct)
	if t == nil {
		return ""
	}
	sl := abi.LayoutOf(server, t)
	soff, sfl, err := sl.Field(f.Path)
	if err != nil {
		return ""
	}
	wrote := f.Expected
	if b := obs.lastCopyout(sl.Size); b != nil && soff+sfl.Size <= len(b) {
		if v, err := sl.Int(b, f.Path); err == nil {
			wrote = fmt.Sprint(v)
		}
	}
	return fmt.Sprintf("%s.%s: server wrote %s at offset %d of %d bytes (%s layout); client read %s at offset %d of a %d-byte %s (%s layout)",
		f.Struct, f.Path, wrote, soff, sl.Size, server.Name, f.Got, f.ClientOffset, f.ClientStructSize, f.Struct, p.Client.Name)
}

// describe lists a struct's members as "name at off (size)".
func describe(l *abi.Layout) string {
	var parts []string
	for _, lf := range l.Leaves() {
		parts = append(parts, fmt.Sprintf("%s at %d (%d bytes)", lf.Path, lf.Offset, lf.Size))
	}
	return fmt.Sprintf("%d bytes: %s", l.Size, strings.Join(parts, ", "))
}

// explainRetval says which server bytes a client's retval word came from
// when the two rsp_sysresp layouts differ.
func explainRetval(p Pair, server *abi.Descriptor, obs *observer, path string) string {
	i := strings.Index(path, "retval[")
	idx := path[i+len("retval[") : i+len("retval[")+1]
	cl, sl := netbsd.LayoutsFor(p.Client).Sysresp, netbsd.LayoutsFor(server).Sysresp
	if sameLeaves(cl, sl) {
		return ""
	}
	coff, cf, err := cl.Field("rsys_retval[" + idx + "]")
	if err != nil {
		return ""
	}
	soff, _, _ := sl.Field("rsys_retval[" + idx + "]")
	msg := fmt.Sprintf("rsp_sysresp.rsys_retval[%s]: client read offset %d of a %d-byte rsp_sysresp (%s layout); server put it at offset %d of %d bytes (%s layout)",
		idx, coff, cl.Size, p.Client.Name, soff, sl.Size, server.Name)
	if b := obs.lastSysresp(); coff+cf.Size <= len(b) {
		msg += fmt.Sprintf("; the client's bytes are the server's %d..%d (% x), %s", coff, coff+cf.Size, b[coff:coff+cf.Size], coverage(sl, coff, cf.Size))
	}
	return msg
}

// explainArgs shows where the client put a syscall's arguments and where
// the server read them, when the two argument layouts differ.
func explainArgs(p Pair, server *abi.Descriptor, obs *observer, name string) string {
	sc := netbsd.LookupName(name)
	if sc == nil || len(sc.Args) == 0 {
		return ""
	}
	ca, sa := netbsd.LayoutsFor(p.Client).Args(sc.Num), netbsd.LayoutsFor(server).Args(sc.Num)
	var diffs []string
	body := obs.lastArgs(sc.Num)
	var vals []uint64
	if body != nil {
		vals, _ = sa.Decode(body)
	}
	vi := 0
	for i, cs := range ca.Slots {
		ss := sa.Slots[i]
		if cs.Pad() {
			continue
		}
		if cs.Datum != ss.Datum {
			d := fmt.Sprintf("%s written at %d (%d bytes), read at %d (%d bytes)", cs.Name, cs.Datum.Offset, cs.Datum.Size, ss.Datum.Offset, ss.Datum.Size)
			if vi < len(vals) {
				d += fmt.Sprintf(" as %#x", vals[vi])
			}
			switch {
			case body != nil && ss.Datum.Offset >= len(body):
				d += " (past the body: zero)"
			case body != nil && ss.Datum.Offset+ss.Datum.Size > len(body):
				d += " (partly past the body)"
			}
			diffs = append(diffs, d)
		}
		vi++
	}
	poison := poisoned(sc, vals)
	if len(diffs) == 0 {
		return poison
	}
	msg := fmt.Sprintf("sys_%s_args: client (%s) sent %d bytes, server (%s) reads %d: %s",
		sc.Name, p.Client.Name, ca.Size, server.Name, sa.Size, strings.Join(diffs, "; "))
	if poison != "" {
		msg += "; " + poison
	}
	return msg
}

// poisoned names an argument that carries sprig's padding poison (the
// bytes C leaves uninitialised, filled with sp.DefaultPadFill): the
// client took it from a reply it misread, such as getpid's pid read from
// rsp_sysresp's padding.
func poisoned(sc *netbsd.Syscall, vals []uint64) string {
	const pattern = uint64(sp.DefaultPadFill) * 0x01010101
	vi := 0
	for _, a := range sc.Args {
		if a.Type == abi.Pad {
			continue
		}
		if vi < len(vals) && vals[vi]&0xffffffff == pattern {
			return fmt.Sprintf("%s is %#x, the poison sprig writes where C leaves rsp_sysresp's padding uninitialised: the client got it from a reply it misread (an earlier syscall's retval read from the padding)",
				a.Name, vals[vi]&0xffffffff)
		}
		vi++
	}
	return ""
}

// coverage names the server members (or padding) under bytes [off, off+n).
func coverage(l *abi.Layout, off, n int) string {
	var names []string
	for _, lf := range l.Leaves() {
		if lf.Offset >= off+n || off >= lf.Offset+lf.Size {
			continue
		}
		if lf.Type.Kind() == abi.KindArray {
			es := abi.LayoutOf(l.ABI, lf.Type.Elem()).Size
			names = append(names, fmt.Sprintf("%s[%d]", lf.Path, (max(off, lf.Offset)-lf.Offset)/es))
			continue
		}
		names = append(names, lf.Path)
	}
	for _, pd := range l.Padding() {
		if pd.Offset < off+n && off < pd.Offset+pd.Size {
			names = append(names, "padding C leaves uninitialised")
		}
	}
	return "under the server's " + strings.Join(names, " and ")
}

func sameLeaves(a, b *abi.Layout) bool {
	la, lb := a.Leaves(), b.Leaves()
	if len(la) != len(lb) || a.Size != b.Size {
		return false
	}
	for i := range la {
		if la[i].Offset != lb[i].Offset || la[i].Size != lb[i].Size {
			return false
		}
	}
	return true
}
