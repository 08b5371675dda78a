package sp_test

// Tests against frames captured from NetBSD's real C client and server
// (testdata/golden-amd64.txt, copied from the spec's golden-amd64.md):
// every frame decodes and re-encodes with sprig's codec, sprig's server
// answers the C client's frames with the C server's bytes, and sprig's
// client sends the C client's bytes.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// goldenItem is one line of the capture: a frame, the banner, a new
// connection or the server closing.
type goldenItem struct {
	line int
	op   string // "frame", "banner", "connect", "eof"
	dir  string // "c2s" or "s2c"
	hdr  sp.Header
	kind string            // how the body decodes (see the file's header)
	kv   map[string]string // the kind's expectations
	raw  []byte
}

func (it *goldenItem) String() string {
	if it.op != "frame" {
		return fmt.Sprintf("line %d %s %s", it.line, it.dir, it.op)
	}
	return fmt.Sprintf("line %d %s %s %s reqno=%d", it.line, it.dir, it.hdr.Class, it.hdr.Type, it.hdr.Reqno)
}

func (it *goldenItem) uint(key string) uint64 {
	v, err := strconv.ParseUint(it.kv[key], 0, 64)
	if err != nil {
		panic(fmt.Sprintf("%s: %s=%q: %v", it, key, it.kv[key], err))
	}
	return v
}

func (it *goldenItem) uints(key string) []uint64 {
	out := []uint64{}
	for _, s := range strings.Split(it.kv[key], ",") {
		if s == "" {
			continue
		}
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			panic(fmt.Sprintf("%s: %s=%q: %v", it, key, it.kv[key], err))
		}
		out = append(out, v)
	}
	return out
}

type goldenSection struct {
	name  string
	items []*goldenItem
}

var (
	goldenOnce     sync.Once
	goldenSections []*goldenSection
	goldenErr      error
)

// loadGolden parses testdata/golden-amd64.txt once.
func loadGolden(t testing.TB) []*goldenSection {
	t.Helper()
	goldenOnce.Do(func() { goldenSections, goldenErr = parseGolden("testdata/golden-amd64.txt") })
	require.NoError(t, goldenErr)
	return goldenSections
}

func goldenSectionNamed(t testing.TB, name string) *goldenSection {
	t.Helper()
	for _, s := range loadGolden(t) {
		if s.name == name {
			return s
		}
	}
	require.FailNow(t, "no golden section "+name)
	return nil
}

func parseGolden(path string) ([]*goldenSection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var secs []*goldenSection
	var cur *goldenItem
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", path, n, fmt.Sprintf(format, args...))
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case line[0] == ' ':
			if cur == nil {
				return nil, bad("hex outside a frame")
			}
			b, err := hex.DecodeString(strings.ReplaceAll(trimmed, " ", ""))
			if err != nil {
				return nil, bad("%v", err)
			}
			cur.raw = append(cur.raw, b...)
			continue
		}
		fields := strings.Fields(line)
		if fields[0] == "section" {
			secs = append(secs, &goldenSection{name: fields[1]})
			cur = nil
			continue
		}
		if len(secs) == 0 {
			return nil, bad("item before the first section")
		}
		it := &goldenItem{line: n, kv: map[string]string{}}
		switch {
		case fields[0] == "connect":
			it.op = "connect"
		case len(fields) == 2 && (fields[1] == "banner" || fields[1] == "eof"):
			it.dir, it.op = fields[0], fields[1]
		case len(fields) >= 7:
			it.dir, it.op = fields[0], "frame"
			var ok bool
			if it.hdr.Class, ok = goldenClass(fields[1]); !ok {
				return nil, bad("unknown class %q", fields[1])
			}
			if it.hdr.Type, ok = goldenType(fields[2]); !ok {
				return nil, bad("unknown type %q", fields[2])
			}
			nums := map[string]uint64{}
			for _, kv := range fields[3:6] {
				k, v, _ := strings.Cut(kv, "=")
				x, err := strconv.ParseUint(v, 0, 64)
				if err != nil {
					return nil, bad("%s: %v", kv, err)
				}
				nums[k] = x
			}
			it.hdr.Reqno, it.hdr.U, it.hdr.Len = nums["reqno"], uint32(nums["u"]), nums["len"]
			it.kind = fields[6]
			for _, kv := range fields[7:] {
				k, v, _ := strings.Cut(kv, "=")
				it.kv[k] = v
			}
		default:
			return nil, bad("cannot parse %q", line)
		}
		if it.dir != "" && it.dir != "c2s" && it.dir != "s2c" {
			return nil, bad("direction %q", it.dir)
		}
		s := secs[len(secs)-1]
		s.items = append(s.items, it)
		cur = it
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, s := range secs {
		for _, it := range s.items {
			if it.op == "frame" && uint64(len(it.raw)) != it.hdr.Len {
				return nil, fmt.Errorf("%s:%d: %d bytes of hex for len=%d", path, it.line, len(it.raw), it.hdr.Len)
			}
		}
	}
	return secs, nil
}

func goldenClass(name string) (sp.Class, bool) {
	for c := sp.Class(0); c <= sp.ClassError; c++ {
		if c.String() == name {
			return c, true
		}
	}
	return 0, false
}

func goldenType(name string) (sp.Type, bool) {
	for ty := sp.Type(0); ty <= sp.TypeRaise; ty++ {
		if ty.String() == name {
			return ty, true
		}
	}
	return 0, false
}

// goldenServerConfig is a sprig server configured to look exactly like the
// captured rump_server: amd64, protocol 0.4, release 7.99.34, no abi=
// extension, zeros in the sysresp padding.
func goldenServerConfig() sp.ServerConfig {
	cfg := sp.DefaultServerConfig(mustABI("amd64"))
	cfg.HideABI = true
	cfg.OSRelease = "7.99.34"
	cfg.PadFill = 0
	return cfg
}

// sysrespPad is where the 4 bytes C leaves uninitialised sit in a whole
// amd64 RESP SYSCALL frame.
const sysrespPad = sp.HeaderSize + 4

// maskSysrespPad returns a copy of a RESP SYSCALL frame with the
// uninitialised bytes zeroed.
func maskSysrespPad(frame []byte) []byte {
	out := bytes.Clone(frame)
	clear(out[sysrespPad : sysrespPad+4])
	return out
}

func hexDump(b []byte) string { return hex.Dump(b) }

func TestGoldenFramesDecodeAndReencodeByteForByte(t *testing.T) {
	d := mustABI("amd64")
	// The mask below is exactly the padding sprig's layout finds.
	require.Equal(t, []abi.Range{{Offset: 4, Size: 4}}, netbsd.LayoutsFor(d).Sysresp.Padding())
	codec := sp.NewCodec(d)
	codec.PadFill = 0
	n := 0
	for _, sec := range loadGolden(t) {
		for _, it := range sec.items {
			if it.op != "frame" {
				continue
			}
			n++
			t.Run(sec.name+"/"+it.String(), func(t *testing.T) {
				fr := sp.NewFramer(bytes.NewReader(it.raw), io.Discard, d)
				f, err := fr.ReadFrame()
				require.NoError(t, err)
				assert.Equal(t, it.hdr, f.Header)
				_, err = fr.ReadFrame()
				require.ErrorIs(t, err, io.EOF, "the frame is exactly its announced length")

				body := reencodeGoldenBody(t, codec, it, f.Body)
				var out bytes.Buffer
				w := sp.NewFramer(nil, &out, d)
				require.NoError(t, w.WriteFrame(sp.Header{Reqno: f.Reqno, Class: f.Class, Type: f.Type, U: f.U}, body))
				want := it.raw
				if it.kind == "sysresp" {
					want = maskSysrespPad(want)
				}
				assert.Equal(t, hexDump(want), hexDump(out.Bytes()))
			})
		}
	}
	assert.Equal(t, 56, n, "frames in the capture")
}

// reencodeGoldenBody decodes a captured body by its kind, checks what it
// says, and returns it encoded again by sprig.
func reencodeGoldenBody(t *testing.T, c *sp.Codec, it *goldenItem, body []byte) []byte {
	switch it.kind {
	case "guest":
		// Encoded by sprig's client: TestGoldenClientSendsTheCClientsBytes.
		assert.Equal(t, append([]byte(it.kv["name"]), 0), body, "the program name and its NUL, nothing more")
		return body
	case "fork":
		ck, cancel, err := c.ParseHandshakeFork(body)
		require.NoError(t, err)
		assert.Equal(t, body[:sp.CookieSize], ck[:])
		assert.Equal(t, it.uint("cancel") != 0, cancel)
		return c.HandshakeFork(ck, cancel)
	case "badfork":
		_, _, err := c.ParseHandshakeFork(body)
		require.ErrorIs(t, err, sp.ErrBodySize)
		return body
	case "args":
		l := netbsd.LayoutsFor(c.ABI).Args(netbsd.Sysno(it.hdr.U))
		require.NotNil(t, l, "sprig describes syscall %d", it.hdr.U)
		vals, missing := l.Decode(body)
		require.Zero(t, missing)
		assert.Equal(t, it.uints("values"), vals)
		extra := 0
		if _, ok := it.kv["extra"]; ok {
			extra = int(it.uint("extra"))
		}
		require.Len(t, body, l.Size+extra)
		enc, err := l.Encode(0, vals...)
		require.NoError(t, err)
		return append(enc, body[l.Size:]...)
	case "raw", "data":
		return body
	case "empty":
		require.Empty(t, body)
		return nil
	case "cookie":
		require.Len(t, body, sp.CookieSize)
		var ck sp.Cookie
		copy(ck[:], body)
		return ck[:]
	case "copyreq":
		n, addr, data, err := c.ParseCopydata(body, false)
		require.NoError(t, err)
		assert.Equal(t, it.uint("len"), n)
		assert.Equal(t, it.uint("addr"), addr)
		assert.Empty(t, data)
		enc, err := c.Copydata(n, addr, nil)
		require.NoError(t, err)
		return enc
	case "copyout":
		n, addr, data, err := c.ParseCopydata(body, true)
		require.NoError(t, err)
		assert.Equal(t, it.uint("len"), n)
		assert.Equal(t, it.uint("addr"), addr)
		require.Len(t, data, int(n))
		if it.kv["struct"] == "stat" {
			data = reencodeGoldenStat(t, c.ABI, data)
		}
		enc, err := c.Copydata(n, addr, data)
		require.NoError(t, err)
		return enc
	case "cstring":
		assert.Equal(t, append([]byte(it.kv["s"]), 0), body, "the string and its NUL, nothing more")
		return body
	case "int":
		v, err := c.ParseInt(body)
		require.NoError(t, err)
		assert.Equal(t, int32(it.uint("value")), v)
		return c.Int(v)
	case "sysresp":
		r, err := c.ParseSysresp(body)
		require.NoError(t, err)
		rv := it.uints("retval")
		assert.Equal(t, netbsd.Errno(int32(it.uint("error"))), r.Errno)
		assert.Equal(t, [2]uint64{rv[0], rv[1]}, r.Retval)
		return c.Sysresp(r)
	}
	require.FailNow(t, "unknown kind "+it.kind)
	return nil
}

// goldenStat is the struct stat the captured server copied out for the
// 22-byte tmpfs file.
func goldenStat(size int64) netbsd.Stat {
	ts := netbsd.Timespec{Sec: 0x6b0973da, Nsec: 0x399ca838}
	return netbsd.Stat{Dev: 8, Mode: netbsd.S_IFREG | 0o644, Ino: 8, Nlink: 1, Rdev: netbsd.NODEV,
		Atim: ts, Mtim: ts, Ctim: ts, Birthtim: ts, Size: size, Blocks: 1, Blksize: 512}
}

func reencodeGoldenStat(t *testing.T, d *abi.Descriptor, data []byte) []byte {
	l := netbsd.LayoutsFor(d).Stat
	require.Len(t, data, l.Size)
	var st netbsd.Stat
	require.NoError(t, l.Decode(data, &st))
	assert.Equal(t, goldenStat(22), st)
	enc, err := l.Encode(&st)
	require.NoError(t, err)
	return enc
}

func TestGoldenBannerParsesAndSprigsServerSendsItByteForByte(t *testing.T) {
	conv := goldenSectionNamed(t, "conversation")
	require.Equal(t, "banner", conv.items[0].op)
	raw := string(conv.items[0].raw)
	require.Equal(t, goldenBanner, raw)

	b, err := sp.ParseBanner(raw)
	require.NoError(t, err)
	assert.Equal(t, sp.Banner{Version: sp.Version04, OSType: "NetBSD", OSRelease: "7.99.34", Machine: "amd64"}, b)
	assert.Equal(t, raw, b.Line())
	d, err := b.ServerABI()
	require.NoError(t, err)
	assert.Equal(t, "amd64", d.Name)

	for _, scheme := range []string{"unix", "tcp"} {
		t.Run(scheme, func(t *testing.T) {
			ts := startServer(t, scheme, goldenServerConfig())
			u, err := sp.ParseURL(ts.url)
			require.NoError(t, err)
			conn, err := u.Dial(ctxT(t))
			require.NoError(t, err)
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			got := make([]byte, len(raw))
			_, err = io.ReadFull(conn, got)
			require.NoError(t, err)
			assert.Equal(t, raw, string(got))

			// Nothing else comes before the client's first request.
			conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, err := conn.Read(make([]byte, 1))
			assert.Zero(t, n)
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
		})
	}
}

// readRawFrame reads one frame's bytes (amd64 header) from r.
func readRawFrame(r io.Reader) ([]byte, error) {
	hdr := make([]byte, sp.HeaderSize)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(hdr)
	if n < sp.HeaderSize || n > 1<<20 {
		return nil, fmt.Errorf("frame length %d", n)
	}
	frame := make([]byte, n)
	copy(frame, hdr)
	if _, err := io.ReadFull(r, frame[sp.HeaderSize:]); err != nil {
		return nil, err
	}
	return frame, nil
}

// goldenReplay plays the C client's side of a captured section against a
// sprig server and checks every server frame against the C server's.
type goldenReplay struct {
	t    *testing.T
	url  string
	conn net.Conn
	// pids maps the getpid results of the capture to those of the test
	// kernel, whose pid numbering differs.
	pids map[[2]uint64][2]uint64
	// cookies maps the capture's PREFORK cookies to sprig's.
	cookies map[string][]byte
	// serverReqnos collects the reqnos of the requests sprig's server
	// sent, from the frames themselves.
	serverReqnos []uint64
}

func (r *goldenReplay) connect() {
	t := r.t
	u, err := sp.ParseURL(r.url)
	require.NoError(t, err)
	conn, err := u.Dial(ctxT(t))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	banner := make([]byte, len(goldenBanner))
	_, err = io.ReadFull(conn, banner)
	require.NoError(t, err)
	require.Equal(t, goldenBanner, string(banner))
	r.conn = conn
}

func (r *goldenReplay) run(sec *goldenSection) {
	t := r.t
	r.connect()
	for _, it := range sec.items {
		switch {
		case it.op == "connect":
			r.connect()
		case it.op == "banner":
			// connect checked it.
		case it.op == "eof":
			n, err := r.conn.Read(make([]byte, 1))
			require.Zero(t, n, "%s: the server sent more instead of closing", it)
			require.ErrorIs(t, err, io.EOF, "%s", it)
		case it.dir == "c2s":
			b := bytes.Clone(it.raw)
			for old, now := range r.cookies {
				b = bytes.ReplaceAll(b, []byte(old), now)
			}
			_, err := r.conn.Write(b)
			require.NoError(t, err, "%s", it)
		default:
			got, err := readRawFrame(r.conn)
			require.NoError(t, err, "%s: reading the server's frame", it)
			if it.hdr.Class == sp.ClassReq {
				r.serverReqnos = append(r.serverReqnos, binary.LittleEndian.Uint64(got[8:]))
			}
			want := r.expected(it, got)
			require.Equal(t, hexDump(want), hexDump(got), "%s", it)
		}
	}
}

// expected returns the captured frame with what legitimately differs
// replaced: the sysresp padding C leaves uninitialised (sprig writes the
// configured zeros), the test kernel's pids, a fresh random cookie.
func (r *goldenReplay) expected(it *goldenItem, got []byte) []byte {
	want := bytes.Clone(it.raw)
	switch it.kind {
	case "sysresp":
		want = maskSysrespPad(want)
		rv := it.uints("retval")
		if p, ok := r.pids[[2]uint64{rv[0], rv[1]}]; ok && it.hdr.U == 0 {
			binary.LittleEndian.PutUint64(want[32:], p[0])
			binary.LittleEndian.PutUint64(want[40:], p[1])
		}
	case "cookie":
		if len(got) == len(want) {
			ck := got[sp.HeaderSize:]
			require.NotEqual(r.t, make([]byte, sp.CookieSize), ck, "a cookie of zeros")
			if r.cookies == nil {
				r.cookies = map[string][]byte{}
			}
			r.cookies[string(want[sp.HeaderSize:])] = bytes.Clone(ck)
			copy(want[sp.HeaderSize:], ck)
		}
	}
	return want
}

// goldenKernel answers the captured conversation's syscalls exactly as the
// captured rump kernel did: pid 2 with ppid 1, the first fd is 3, the
// tmpfs file's struct stat.
type goldenKernel struct {
	mu    sync.Mutex
	files map[string][]byte
}

func newGoldenKernel() *goldenKernel { return &goldenKernel{files: map[string][]byte{}} }

func (k *goldenKernel) NewProcess(ctx context.Context, c sp.ClientInfo) (sp.Process, error) {
	return &goldenProc{k: k, fds: map[int]*goldenFile{}}, nil
}

func (k *goldenKernel) file(path string) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.files[path]
}

type goldenFile struct {
	path string
	off  int64
}

type goldenProc struct {
	k   *goldenKernel
	mu  sync.Mutex
	fds map[int]*goldenFile
}

func (p *goldenProc) Pid() int { return 2 }
func (p *goldenProc) Fork(ctx context.Context) (sp.Process, error) {
	return nil, errors.New("no fork in the capture")
}
func (p *goldenProc) Attach(c sp.ClientInfo) (sp.Process, error)  { return p, nil }
func (p *goldenProc) Exec(ctx context.Context, name string) error { return nil }
func (p *goldenProc) Exit()                                       {}

func goldenErrno(err error) sp.Result {
	var e netbsd.Errno
	if !errors.As(err, &e) {
		e = netbsd.EFAULT
	}
	return sp.Result{Errno: e}
}

func (p *goldenProc) Syscall(ctx context.Context, req *sp.SyscallRequest) sp.Result {
	if req.Num == netbsd.SYS_getpid {
		return sp.Result{Retval: [2]uint64{2, 1}}
	}
	args, missing, ok := req.Args()
	if !ok || missing > 0 {
		return sp.Result{Errno: netbsd.ENOSYS}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fd := func() *goldenFile { return p.fds[int(int32(args[0]))] }
	switch req.Num {
	case netbsd.SYS_open:
		path, err := req.Mem.CopyInStr(ctx, args[0], netbsd.PATH_MAX)
		if err != nil {
			return goldenErrno(err)
		}
		p.k.mu.Lock()
		_, exists := p.k.files[path]
		if !exists && args[1]&netbsd.O_CREAT != 0 {
			p.k.files[path], exists = []byte{}, true
		}
		p.k.mu.Unlock()
		if !exists {
			return sp.Result{Errno: netbsd.ENOENT}
		}
		n := 3 // 0, 1 and 2 are rump_server's own
		for p.fds[n] != nil {
			n++
		}
		p.fds[n] = &goldenFile{path: path}
		return sp.Result{Retval: [2]uint64{uint64(n)}}
	case netbsd.SYS_write:
		f := fd()
		if f == nil {
			return sp.Result{Errno: netbsd.EBADF}
		}
		data, err := req.Mem.CopyIn(ctx, args[1], int(args[2]))
		if err != nil {
			return goldenErrno(err)
		}
		p.k.mu.Lock()
		p.k.files[f.path] = append(p.k.files[f.path][:f.off], data...)
		p.k.mu.Unlock()
		f.off += int64(len(data))
		return sp.Result{Retval: [2]uint64{uint64(len(data))}}
	case netbsd.SYS_lseek:
		f := fd()
		if f == nil || args[2] != netbsd.SEEK_SET {
			return sp.Result{Errno: netbsd.EINVAL}
		}
		f.off = int64(args[1])
		return sp.Result{Retval: sp.SplitOff(req.ABI, uint64(f.off))}
	case netbsd.SYS_read:
		f := fd()
		if f == nil {
			return sp.Result{Errno: netbsd.EBADF}
		}
		data := p.k.file(f.path)
		chunk := data[min(f.off, int64(len(data))):min(f.off+int64(args[2]), int64(len(data)))]
		if err := req.Mem.CopyOut(ctx, args[1], chunk); err != nil {
			return goldenErrno(err)
		}
		f.off += int64(len(chunk))
		return sp.Result{Retval: [2]uint64{uint64(len(chunk))}}
	case netbsd.SYS___fstat50:
		f := fd()
		if f == nil {
			return sp.Result{Errno: netbsd.EBADF}
		}
		st := goldenStat(int64(len(p.k.file(f.path))))
		b, err := netbsd.LayoutsFor(req.ABI).Stat.Encode(&st)
		if err != nil {
			return goldenErrno(err)
		}
		if err := req.Mem.CopyOut(ctx, args[1], b); err != nil {
			return goldenErrno(err)
		}
		return sp.Result{}
	case netbsd.SYS_close:
		if fd() == nil {
			return sp.Result{Errno: netbsd.EBADF}
		}
		delete(p.fds, int(int32(args[0])))
		return sp.Result{}
	}
	return sp.Result{Errno: netbsd.ENOSYS}
}

func TestGoldenConversationGetsTheCServersBytesFromSprigsServer(t *testing.T) {
	for _, scheme := range []string{"unix", "tcp"} {
		t.Run(scheme, func(t *testing.T) {
			k := newGoldenKernel()
			cfg := goldenServerConfig()
			var mu sync.Mutex
			var traced []uint64
			cfg.Trace = func(_ *sp.ConnInfo, dir sp.Direction, f *sp.Frame) {
				if dir == sp.Sent && f.Class == sp.ClassReq {
					mu.Lock()
					traced = append(traced, f.Reqno)
					mu.Unlock()
				}
			}
			_, url := serveKernel(t, scheme, k, cfg)
			r := &goldenReplay{t: t, url: url}
			r.run(goldenSectionNamed(t, "conversation"))

			// COPYINSTR, COPYIN, COPYOUT, COPYOUT, COPYINSTR: numbered
			// by the server from 0, apart from the client's own numbers.
			assert.Equal(t, []uint64{0, 1, 2, 3, 4}, r.serverReqnos)
			mu.Lock()
			assert.Equal(t, []uint64{0, 1, 2, 3, 4}, traced)
			mu.Unlock()
			assert.Equal(t, "hello, rump sysproxy!\n", string(k.file("/golden.txt")))
		})
	}
}

func TestGoldenProbesGetTheCServersAnswersFromSprigsServer(t *testing.T) {
	tests := []struct {
		name    string
		section string
		// The capture's server had served other clients first, and the
		// rump kernel reparents a forked child to init; the test kernel
		// starts at pid 2 and keeps the parent.
		pids map[[2]uint64][2]uint64
	}{
		{name: "a syscall before the handshake gets ERROR AUTH and the connection closes", section: "probe1"},
		{name: "an unknown handshake kind gets ERROR AUTH and the connection closes", section: "probe2"},
		{
			name: "a bogus request gets ERROR MALFORMED, the connection stays usable, a second GUEST closes it", section: "probe3",
			pids: map[[2]uint64][2]uint64{{3, 1}: {2, 1}},
		},
		{
			name: "prefork, fork on a new connection, a reused cookie and a short fork body", section: "probe4",
			pids: map[[2]uint64][2]uint64{{4, 1}: {2, 1}, {6, 1}: {3, 2}},
		},
	}
	for _, scheme := range []string{"unix", "tcp"} {
		for _, tt := range tests {
			t.Run(scheme+"/"+tt.name, func(t *testing.T) {
				ts := startServer(t, scheme, goldenServerConfig())
				r := &goldenReplay{t: t, url: ts.url, pids: tt.pids}
				r.run(goldenSectionNamed(t, tt.section))
				assert.Zero(t, ts.srv.PendingForks(), "every cookie was claimed or refused")
				if tt.section == "probe4" {
					assert.Len(t, r.cookies, 1)
				}
				assertServing(t, ts.url)
			})
		}
	}
}

// addressSpaces routes a client's memory accesses to whichever of several
// flat memories holds the address, like a process's heap and stack.
type addressSpaces []*sptest.Memory

func (a addressSpaces) at(addr uint64) (*sptest.Memory, error) {
	for _, m := range a {
		if _, err := m.CopyIn(context.Background(), addr, 0); err == nil {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w: %#x", sp.ErrFault, addr)
}

func (a addressSpaces) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	m, err := a.at(addr)
	if err != nil {
		return nil, err
	}
	return m.CopyIn(ctx, addr, n)
}

func (a addressSpaces) CopyInStr(ctx context.Context, addr uint64, max int) (string, error) {
	m, err := a.at(addr)
	if err != nil {
		return "", err
	}
	return m.CopyInStr(ctx, addr, max)
}

func (a addressSpaces) CopyOut(ctx context.Context, addr uint64, data []byte) error {
	m, err := a.at(addr)
	if err != nil {
		return err
	}
	return m.CopyOut(ctx, addr, data)
}

func (a addressSpaces) AnonMmap(ctx context.Context, size uint64) (uint64, error) {
	return a[0].AnonMmap(ctx, size)
}

func TestGoldenClientSendsTheCClientsBytes(t *testing.T) {
	conv := goldenSectionNamed(t, "conversation")
	// The fake server is the C server of the capture: it checks each
	// client frame against the C client's and answers with the C
	// server's bytes, uninitialised padding included.
	url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
		for _, it := range conv.items {
			switch {
			case it.op == "banner":
			case it.dir == "s2c":
				if _, err := conn.Write(it.raw); err != nil {
					return err
				}
			default:
				got, err := readRawFrame(conn)
				if err != nil {
					return fmt.Errorf("%s: %w", it, err)
				}
				if !bytes.Equal(got, it.raw) {
					return fmt.Errorf("%s: sprig's client sent\n%sthe C client sent\n%s", it, hexDump(got), hexDump(it.raw))
				}
			}
		}
		return nil
	})

	// The C client's pointers: a heap and a stack.
	heap := sptest.NewMemory(0x561ed57e3000, 4096)
	stack := sptest.NewMemory(0x7ffebda2e000, 4096)
	require.NoError(t, heap.CopyOut(context.Background(), 0x561ed57e301f, []byte("/golden.txt\x00")))
	require.NoError(t, heap.CopyOut(context.Background(), 0x561ed57e3034, []byte("hello, rump sysproxy!\n")))
	require.NoError(t, heap.CopyOut(context.Background(), 0x561ed57e30a4, []byte("/nonexistent\x00")))

	cfg := sp.DefaultClientConfig(mustABI("amd64"))
	cfg.ProgramName = "golden"
	cfg.Memory = addressSpaces{heap, stack}
	var mu sync.Mutex
	var sent []sp.Header
	cfg.Trace = func(dir sp.Direction, f *sp.Frame) {
		if dir == sp.Sent {
			mu.Lock()
			sent = append(sent, f.Header)
			mu.Unlock()
		}
	}
	c, err := sp.Dial(ctxT(t), url, cfg)
	require.NoError(t, err)
	defer c.Close()
	ctx := ctxT(t)
	if err := c.HandshakeGuest(ctx); err != nil {
		require.NoError(t, <-done)
		require.NoError(t, err)
	}

	steps := []struct {
		name string
		num  netbsd.Sysno
		args []uint64
		want sp.Result
	}{
		{"getpid", netbsd.SYS_getpid, nil, sp.Result{Retval: [2]uint64{2, 1}}},
		{"open", netbsd.SYS_open, []uint64{0x561ed57e301f, netbsd.O_CREAT | netbsd.O_RDWR, 0o644}, sp.Result{Retval: [2]uint64{3}}},
		{"write", netbsd.SYS_write, []uint64{3, 0x561ed57e3034, 22}, sp.Result{Retval: [2]uint64{22}}},
		{"lseek", netbsd.SYS_lseek, []uint64{3, 0, netbsd.SEEK_SET}, sp.Result{}},
		{"read", netbsd.SYS_read, []uint64{3, 0x7ffebda2e720, 64}, sp.Result{Retval: [2]uint64{22}}},
		{"fstat", netbsd.SYS___fstat50, []uint64{3, 0x7ffebda2e760}, sp.Result{}},
		{"close", netbsd.SYS_close, []uint64{3}, sp.Result{}},
		{"open of a missing file", netbsd.SYS_open, []uint64{0x561ed57e30a4, 0, 0}, sp.Result{Errno: netbsd.ENOENT}},
	}
	// fakeErr waits for the fake server's verdict, which explains any
	// failure of the client better than the client can.
	fakeErr := func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			return errors.New("the fake server did not finish")
		}
	}
	for _, s := range steps {
		r, err := c.Syscall(ctx, s.num, anys(s.args)...)
		if err != nil {
			require.NoError(t, fakeErr())
			require.NoError(t, err, s.name)
		}
		assert.Equal(t, s.want, words(r), s.name)
	}
	require.NoError(t, fakeErr())

	// The COPYOUTs landed, and only the bytes read.
	assert.Equal(t, "hello, rump sysproxy!\n\x00", string(stack.Read(0x7ffebda2e720, 23)))
	var statFrame []byte
	for _, it := range conv.items {
		if it.kv["struct"] == "stat" {
			statFrame = it.raw
		}
	}
	require.NotNil(t, statFrame)
	assert.Equal(t, statFrame[sp.HeaderSize+16:], stack.Read(0x7ffebda2e760, 152))

	// Requests numbered from 1 like the C client's; answers echo the
	// server's numbers.
	mu.Lock()
	defer mu.Unlock()
	var reqs, resps []uint64
	for _, h := range sent {
		if h.Class == sp.ClassReq {
			reqs = append(reqs, h.Reqno)
		} else {
			resps = append(resps, h.Reqno)
		}
	}
	assert.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}, reqs)
	assert.Equal(t, []uint64{0, 1, 4}, resps)
}
