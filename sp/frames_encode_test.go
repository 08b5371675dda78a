package sp_test

// The encoders and decoders the frame goldens are compared with: for each
// kind of frame object, sp's codec (or Framer) and abi/netbsd's layouts,
// called as sprig's own client and server call them.

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// maxSentBody bounds the body a header object is sent with through a
// Framer; a header announcing more is checked by parsing only.
const maxSentBody = 1 << 20

// encodeFrame encodes r's values with sp's codec or abi/netbsd for d, as
// sprig's own peers would send them. parseOnly says the object cannot be
// sent (a header announcing more than any Framer sends).
func encodeFrame(d *abi.Descriptor, r *frameRecord) (b []byte, parseOnly bool, err error) {
	c := sp.NewCodec(d)
	l := netbsd.LayoutsFor(d)
	switch r.Kind {
	case kindHeader:
		n := r.v("rsp_len")
		if n < sp.HeaderSize || n-sp.HeaderSize > maxSentBody {
			return nil, true, nil
		}
		var buf bytes.Buffer
		err := sp.NewFramer(nil, &buf, d).WriteFrame(headerOf(r), make([]byte, n-sp.HeaderSize))
		if err != nil {
			return nil, false, err
		}
		return buf.Bytes()[:sp.HeaderSize], false, nil
	case kindSysresp:
		return c.Sysresp(sysrespOf(r)), false, nil
	case kindCopydata:
		b, err := c.Copydata(r.v("rcp_len"), r.v("rcp_addr"), nil)
		return b, false, err
	case kindCopyout:
		b, err := c.Copydata(r.v("rcp_len"), r.v("rcp_addr"), r.init("rcp_data"))
		return b, false, err
	case kindHandshakeFork:
		ck, cancel := forkOf(r)
		return c.HandshakeFork(ck, cancel), false, nil
	case kindInt:
		return c.Int(int32(r.v(""))), false, nil
	case kindSize:
		b, err := c.Size(r.v(""))
		return b, false, err
	case kindPointer:
		b, err := c.Pointer(r.v(""))
		return b, false, err
	case kindArgs:
		a, vals, err := argsOf(l, r)
		if err != nil {
			return nil, false, err
		}
		b, err := a.Encode(sp.DefaultPadFill, vals...)
		return b, false, err
	case kindStat:
		st := statOf(r)
		b, err := l.Stat.Encode(&st)
		return b, false, err
	case kindTimespec:
		ts := timespecOf(r, "")
		b, err := l.Timespec.Encode(&ts)
		return b, false, err
	case kindTmpfsArgs:
		ta := tmpfsArgsOf(r)
		b, err := l.TmpfsArgs.Encode(&ta)
		return b, false, err
	case kindDirent:
		// As the kernel writes a getdents record: d_reclen bytes, zeroed,
		// the struct encoded at their start (kern/sys_stat.go).
		de := direntOf(r)
		rec := make([]byte, de.Reclen)
		return rec, false, l.Dirent.EncodeTo(rec, &de)
	}
	return nil, false, fmt.Errorf("no encoder for kind %q", r.Kind)
}

// decodeFrame decodes the compiler's bytes of r with sp or abi/netbsd for
// d and reports how what comes back differs from r's values.
func decodeFrame(d *abi.Descriptor, r *frameRecord) error {
	c := sp.NewCodec(d)
	l := netbsd.LayoutsFor(d)
	b := r.wire()
	same := func(want, got any) error {
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return fmt.Errorf("decoded %+v, want %+v", got, want)
		}
		return nil
	}
	switch r.Kind {
	case kindHeader:
		f := sp.NewFramer(nil, nil, d)
		f.MaxFrame = math.MaxUint64
		if len(b) != sp.HeaderSize {
			return fmt.Errorf("%d bytes, a header is %d", len(b), sp.HeaderSize)
		}
		h, err := f.ParseHeader([sp.HeaderSize]byte(b))
		if err != nil {
			return err
		}
		want := headerOf(r)
		want.Len = r.v("rsp_len")
		return same(want, h)
	case kindSysresp:
		got, err := c.ParseSysresp(b)
		if err != nil {
			return err
		}
		want := sysrespOf(r)
		for i := range want.Retval { // parsed words are zero-extended
			want.Retval[i] &= sizeMask(r.member(fmt.Sprintf("rsys_retval[%d]", i)).Size)
		}
		return same([]any{want.Errno, want.Retval}, []any{got.Errno, got.Retval})
	case kindCopydata, kindCopyout:
		n, addr, data, err := c.ParseCopydata(b, r.Kind == kindCopyout)
		if err != nil {
			return err
		}
		var want []byte
		if r.Kind == kindCopyout {
			want = r.init("rcp_data")
		}
		return same([]any{r.v("rcp_len"), r.v("rcp_addr"), want}, []any{n, addr, data})
	case kindHandshakeFork:
		ck, cancel, err := c.ParseHandshakeFork(b)
		if err != nil {
			return err
		}
		wck, wcancel := forkOf(r)
		return same([]any{wck, wcancel}, []any{ck, cancel})
	case kindInt:
		v, err := c.ParseInt(b)
		if err != nil {
			return err
		}
		return same(int32(r.v("")), v)
	case kindSize:
		v, err := c.ParseSize(b)
		if err != nil {
			return err
		}
		return same(r.v(""), v)
	case kindPointer:
		v, err := c.ParsePointer(b)
		if err != nil {
			return err
		}
		return same(r.v(""), v)
	case kindArgs:
		a, vals, err := argsOf(l, r)
		if err != nil {
			return err
		}
		got, missing := a.Decode(b)
		if missing != 0 || len(b) != a.Size {
			return fmt.Errorf("%d-byte body, %s's sys_%s_args is %d", len(b), d.Name, strings.TrimPrefix(r.Name, "args/"), a.Size)
		}
		return same(vals, got)
	case kindStat:
		var st netbsd.Stat
		if err := l.Stat.Decode(b, &st); err != nil {
			return err
		}
		return same(statOf(r), st)
	case kindTimespec:
		var ts netbsd.Timespec
		if err := l.Timespec.Decode(b, &ts); err != nil {
			return err
		}
		return same(timespecOf(r, ""), ts)
	case kindTmpfsArgs:
		var ta netbsd.TmpfsArgs
		if err := l.TmpfsArgs.Decode(b, &ta); err != nil {
			return err
		}
		return same(tmpfsArgsOf(r), ta)
	case kindDirent:
		var de netbsd.Dirent
		if err := l.Dirent.Decode(b, &de); err != nil {
			return err
		}
		return same(direntOf(r), de)
	}
	return fmt.Errorf("no decoder for kind %q", r.Kind)
}

func sizeMask(size int) uint64 {
	if size >= 8 {
		return math.MaxUint64
	}
	return 1<<(8*uint(size)) - 1
}

func headerOf(r *frameRecord) sp.Header {
	h := sp.Header{Reqno: r.v("rsp_reqno"), Class: sp.Class(r.v("rsp_class")), Type: sp.Type(r.v("rsp_type"))}
	for _, m := range r.Fields {
		if strings.HasPrefix(m.Path, "u.") { // the union member the frame's kind uses
			h.U = uint32(r.v(m.Path))
		}
	}
	return h
}

func sysrespOf(r *frameRecord) sp.Result {
	return sp.Result{Errno: netbsd.Errno(int32(r.v("rsys_error"))),
		Retval: [2]uint64{r.v("rsys_retval[0]"), r.v("rsys_retval[1]")}}
}

// forkOf returns a handshake_fork's cookie and cancel flag. The cookie is
// opaque bytes (the server's PREFORK answer, echoed as received), so it is
// taken as the bytes the compiler put in rf_auth: what is checked is
// where the codec puts them and rf_cancel.
func forkOf(r *frameRecord) (sp.Cookie, bool) {
	var ck sp.Cookie
	first, last := r.member("rf_auth[0]"), r.member("rf_auth[3]")
	b := r.wire()
	if first.Offset >= 0 && last.Offset+last.Size <= len(b) {
		copy(ck[:], b[first.Offset:last.Offset+last.Size])
	}
	return ck, r.v("rf_cancel") != 0
}

// argsOf returns syscall r.Sysno's argument layout on d and r's values of
// its non-PAD arguments, in order.
func argsOf(l *netbsd.Layouts, r *frameRecord) (*abi.ArgsLayout, []uint64, error) {
	sc := netbsd.Lookup(netbsd.Sysno(r.Sysno))
	if sc == nil || "args/"+sc.Name != r.Name {
		return nil, nil, fmt.Errorf("syscall %d is not %s in abi/netbsd", r.Sysno, r.Name)
	}
	a := l.Args(sc.Num)
	var vals []uint64
	for i, s := range a.Slots {
		if i >= len(r.Fields) || r.Fields[i].Path != s.Name {
			return nil, nil, fmt.Errorf("argument %d is %q in abi/netbsd, not as in the golden", i, s.Name)
		}
		if !s.Pad() {
			vals = append(vals, r.v(s.Name))
		}
	}
	if len(a.Slots) != len(r.Fields) {
		return nil, nil, fmt.Errorf("%d arguments in abi/netbsd, %d in the golden", len(a.Slots), len(r.Fields))
	}
	return a, vals, nil
}

func timespecOf(r *frameRecord, prefix string) netbsd.Timespec {
	return netbsd.Timespec{Sec: int64(r.v(prefix + "tv_sec")), Nsec: int64(r.v(prefix + "tv_nsec"))}
}

func statOf(r *frameRecord) netbsd.Stat {
	return netbsd.Stat{
		Dev: r.v("st_dev"), Mode: uint32(r.v("st_mode")), Ino: r.v("st_ino"), Nlink: uint32(r.v("st_nlink")),
		UID: uint32(r.v("st_uid")), GID: uint32(r.v("st_gid")), Rdev: r.v("st_rdev"),
		Atim: timespecOf(r, "st_atim."), Mtim: timespecOf(r, "st_mtim."),
		Ctim: timespecOf(r, "st_ctim."), Birthtim: timespecOf(r, "st_birthtim."),
		Size: int64(r.v("st_size")), Blocks: int64(r.v("st_blocks")), Blksize: int32(r.v("st_blksize")),
		Flags: uint32(r.v("st_flags")), Gen: uint32(r.v("st_gen")),
		// st_spare is not carried: netbsd's Encode leaves it zero, and
		// the golden initialises it to 0 (as NetBSD's kernel does).
	}
}

func tmpfsArgsOf(r *frameRecord) netbsd.TmpfsArgs {
	return netbsd.TmpfsArgs{Version: int32(r.v("ta_version")), NodesMax: r.v("ta_nodes_max"), SizeMax: int64(r.v("ta_size_max")),
		RootUID: uint32(r.v("ta_root_uid")), RootGID: uint32(r.v("ta_root_gid")), RootMode: uint32(r.v("ta_root_mode"))}
}

func direntOf(r *frameRecord) netbsd.Dirent {
	return netbsd.Dirent{Fileno: r.v("d_fileno"), Reclen: uint16(r.v("d_reclen")), Namlen: uint16(r.v("d_namlen")),
		Type: uint8(r.v("d_type")), Name: string(r.init("d_name"))}
}
