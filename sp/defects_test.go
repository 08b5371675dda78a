package sp_test

// One test per defect of the C implementation listed in section 8 of the
// sysproxy fact sheet. Each asserts something that would fail if sprig
// had the defect, and shows the server keeps serving other clients (or,
// for defects of the client, that the client keeps working).

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// recKernel is the test kernel with a record of what the server handed it:
// program names of new processes and every syscall as decoded.
type recKernel struct {
	*sptest.Kernel
	mu    sync.Mutex
	names []string
	calls []recCall
}

type recCall struct {
	num     netbsd.Sysno
	vals    []uint64
	missing int
}

func newRecKernel() *recKernel { return &recKernel{Kernel: sptest.NewKernel()} }

func (k *recKernel) NewProcess(ctx context.Context, c sp.ClientInfo) (sp.Process, error) {
	k.mu.Lock()
	k.names = append(k.names, c.Name)
	k.mu.Unlock()
	p, err := k.Kernel.NewProcess(ctx, c)
	if err != nil {
		return nil, err
	}
	return &recProc{Process: p, k: k}, nil
}

func (k *recKernel) lastName() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.names) == 0 {
		return "<none>"
	}
	return k.names[len(k.names)-1]
}

func (k *recKernel) allNames() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.names...)
}

func (k *recKernel) lastCall() recCall {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.calls) == 0 {
		return recCall{}
	}
	return k.calls[len(k.calls)-1]
}

type recProc struct {
	sp.Process
	k *recKernel
}

func (p *recProc) Syscall(ctx context.Context, req *sp.SyscallRequest) sp.Result {
	vals, missing, _ := req.Args()
	p.k.mu.Lock()
	p.k.calls = append(p.k.calls, recCall{num: req.Num, vals: vals, missing: missing})
	p.k.mu.Unlock()
	return p.Process.Syscall(ctx, req)
}

// fakeConn is the C-like side of a fake server's connection. Its methods
// return errors, as it runs off the test goroutine.
type fakeConn struct {
	fr    *sp.Framer
	codec *sp.Codec
}

func newFakeConn(conn net.Conn) *fakeConn {
	d := mustABI("amd64")
	fr := sp.NewFramer(conn, conn, d)
	fr.MaxFrame = 1 << 62
	return &fakeConn{fr: fr, codec: sp.NewCodec(d)}
}

// expect reads a frame and checks its class and type.
func (f *fakeConn) expect(class sp.Class, typ sp.Type) (*sp.Frame, error) {
	fr, err := f.fr.ReadFrame()
	if err != nil {
		return nil, err
	}
	if fr.Class != class || fr.Type != typ {
		return nil, fmt.Errorf("got %s, want %s %s", fr.Header, class, typ)
	}
	return fr, nil
}

func (f *fakeConn) send(h sp.Header, body ...[]byte) error { return f.fr.WriteFrame(h, body...) }

// acceptedGuest is the fake server's end of conn, past the client's
// GUEST handshake, which it has answered.
func acceptedGuest(conn net.Conn) (*fakeConn, error) {
	f := newFakeConn(conn)
	return f, f.acceptGuest()
}

// acceptGuest answers the client's GUEST handshake.
func (f *fakeConn) acceptGuest() error {
	g, err := f.expect(sp.ClassReq, sp.TypeHandshake)
	if err != nil {
		return err
	}
	return f.send(sp.Header{Reqno: g.Reqno, Class: sp.ClassResp, Type: sp.TypeHandshake}, f.codec.Int(0))
}

// reply answers a SYSCALL.
func (f *fakeConn) reply(reqno uint64, errno netbsd.Errno, rv [2]uint64) error {
	return f.send(sp.Header{Reqno: reqno, Class: sp.ClassResp, Type: sp.TypeSyscall}, f.codec.Sysresp(sp.Result{Errno: errno, Retval: rv}))
}

// waitFake returns the fake server's verdict.
func waitFake(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err, "fake server")
	case <-time.After(5 * time.Second):
		require.FailNow(t, "the fake server did not finish")
	}
}

// dialFake connects a sprig client (amd64, C-like) to a fake server.
func dialFake(t *testing.T, url string, cfg sp.ClientConfig) *sp.Client {
	t.Helper()
	c, err := sp.Dial(ctxT(t), url, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// countingMemory counts the client's memory accesses.
type countingMemory struct {
	sp.Memory
	calls atomic.Int64
}

func (m *countingMemory) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	m.calls.Add(1)
	return m.Memory.CopyIn(ctx, addr, n)
}

func (m *countingMemory) CopyInStr(ctx context.Context, addr uint64, max int) (string, error) {
	m.calls.Add(1)
	return m.Memory.CopyInStr(ctx, addr, max)
}

func (m *countingMemory) CopyOut(ctx context.Context, addr uint64, data []byte) error {
	m.calls.Add(1)
	return m.Memory.CopyOut(ctx, addr, data)
}

func (m *countingMemory) AnonMmap(ctx context.Context, size uint64) (uint64, error) {
	m.calls.Add(1)
	return m.Memory.AnonMmap(ctx, size)
}

// rawHeader lays out a header by hand, so any length can be announced.
func rawHeader(n, reqno uint64, class sp.Class, typ sp.Type, u uint32) []byte {
	b := make([]byte, sp.HeaderSize)
	binary.LittleEndian.PutUint64(b[0:], n)
	binary.LittleEndian.PutUint64(b[8:], reqno)
	binary.LittleEndian.PutUint16(b[16:], uint16(class))
	binary.LittleEndian.PutUint16(b[18:], uint16(typ))
	binary.LittleEndian.PutUint32(b[20:], u)
	return b
}

func TestDefectNoUpperBoundOnLen(t *testing.T) {
	getpid := uint32(netbsd.SYS_getpid)
	tests := []struct {
		name string
		len  uint64
		// body is sent after the header; a server that believed a
		// truncated length would take it for a whole frame and answer.
		body []byte
	}{
		{name: "2^62 bytes", len: 1 << 62},
		{name: "2^64-1 bytes", len: ^uint64(0)},
		{name: "one byte over the limit, whose body never comes", len: sp.DefaultMaxFrame + 1},
		{name: "2^32+48 bytes, which a 32-bit C server truncates to a whole getpid", len: 1<<32 + 48, body: rawHeader(24, 9, sp.ClassReq, sp.TypeSyscall, getpid)},
	}
	for _, tt := range tests {
		t.Run("the server drops a client announcing "+tt.name+" without allocating it", func(t *testing.T) {
			ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
			p, _ := dialWire(t, ts.url)
			p.guest("big")
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			p.writeRaw(append(rawHeader(tt.len, 2, sp.ClassReq, sp.TypeSyscall, getpid), tt.body...))
			p.expectClosed()
			runtime.ReadMemStats(&after)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "bytes allocated while refusing the frame")
			require.Eventually(t, func() bool { return ts.kernel.Procs() == 0 }, 2*time.Second, time.Millisecond, "the client's process exits")
			assertServing(t, ts.url)
		})
	}

	t.Run("the server drops a first frame whose length is absurd in either byte order", func(t *testing.T) {
		ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
		p, _ := dialWire(t, ts.url)
		p.writeRaw(rawHeader(0xffff_ffff_ffff_ff00, 1, sp.ClassReq, sp.TypeHandshake, 0))
		p.expectClosed()
		assertServing(t, ts.url)
	})

	t.Run("the client drops a server announcing 2^40 bytes", func(t *testing.T) {
		url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
			f := newFakeConn(conn)
			g, err := f.expect(sp.ClassReq, sp.TypeHandshake)
			if err != nil {
				return err
			}
			if _, err := conn.Write(rawHeader(1<<40, g.Reqno, sp.ClassResp, sp.TypeHandshake, 0)); err != nil {
				return err
			}
			_, err = conn.Read(make([]byte, 1)) // the client hangs up
			if err == nil {
				return errors.New("the client sent more instead of hanging up")
			}
			return nil
		})
		c := dialFake(t, url, sp.DefaultClientConfig(mustABI("amd64")))
		err := c.HandshakeGuest(ctxT(t))
		require.ErrorIs(t, err, sp.ErrClosed)
		<-c.Done()
		assert.ErrorContains(t, c.Err(), sp.ErrFrameTooLarge.Error())
		waitFake(t, done)
	})

	t.Run("the client drops a COPYOUT larger than its configured limit", func(t *testing.T) {
		url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
			f, err := acceptedGuest(conn)
			if err != nil {
				return err
			}
			if _, err := f.expect(sp.ClassReq, sp.TypeSyscall); err != nil {
				return err
			}
			body, _ := f.codec.Copydata(8192, 0x10000, make([]byte, 8192))
			if err := f.send(sp.Header{Class: sp.ClassReq, Type: sp.TypeCopyOut}, body); err != nil {
				return err
			}
			conn.Read(make([]byte, 1))
			return nil
		})
		cfg := sp.DefaultClientConfig(mustABI("amd64"))
		cfg.MaxFrame = 4096
		mem := &countingMemory{Memory: sptest.NewMemory(0x10000, 16384)}
		cfg.Memory = mem
		c := dialFake(t, url, cfg)
		require.NoError(t, c.HandshakeGuest(ctxT(t)))
		_, err := c.Syscall(ctxT(t), netbsd.SYS_getpid)
		require.ErrorIs(t, err, sp.ErrClosed)
		assert.Zero(t, mem.calls.Load(), "the oversized COPYOUT never reached memory")
		waitFake(t, done)
	})
}

func TestDefectBodyLengthsNeverChecked(t *testing.T) {
	amd64 := mustABI("amd64")

	t.Run("the server reads short syscall arguments as zero and answers a whole sysresp", func(t *testing.T) {
		k := newRecKernel()
		_, url := serveKernel(t, "unix", k, sp.DefaultServerConfig(amd64))
		p, _ := dialWire(t, url)
		p.guest("short")
		tests := []struct {
			name    string
			num     netbsd.Sysno
			body    []byte
			vals    []uint64
			missing int
		}{
			{"write with only its fd", netbsd.SYS_write, p.args(netbsd.SYS_write, 7, 0x1234, 99)[:8], []uint64{7, 0, 0}, 16},
			{"lseek with 3 bytes", netbsd.SYS_lseek, []byte{5, 0, 0}, []uint64{5, 0, 0}, 29},
			{"close with no body", netbsd.SYS_close, nil, []uint64{0}, 8},
			{"write with half a pointer", netbsd.SYS_write, p.args(netbsd.SYS_write, 7, 0x1122334455667788, 99)[:12], []uint64{7, 0x55667788, 0}, 12},
		}
		for _, tt := range tests {
			r := p.syscall(tt.num, tt.body, nil)
			assert.Equal(t, netbsd.EBADF, r.Errno, tt.name)
			assert.Equal(t, recCall{num: tt.num, vals: tt.vals, missing: tt.missing}, k.lastCall(), tt.name)
		}
		assert.Equal(t, [2]uint64{2, 1}, p.getpid())
		assertServing(t, url)
	})

	t.Run("the server turns a reply of the wrong size into EFAULT", func(t *testing.T) {
		ts := startServer(t, "unix", sp.DefaultServerConfig(amd64))
		p, _ := dialWire(t, ts.url)
		p.guest("short")
		r := p.syscall(netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, netbsd.O_CREAT|netbsd.O_RDWR, 0o644), func(*sp.Frame) []byte {
			return []byte("/f\x00")
		})
		require.Zero(t, r.Errno)
		fd := r.Retval[0]
		for _, n := range []int{0, 4, 9, 1 << 16} {
			r := p.syscall(netbsd.SYS_write, p.args(netbsd.SYS_write, fd, 0x2000, 8), func(req *sp.Frame) []byte {
				return make([]byte, n)
			})
			assert.Equal(t, netbsd.EFAULT, r.Errno, "a %d-byte answer to an 8-byte COPYIN", n)
		}
		r = p.syscall(netbsd.SYS_write, p.args(netbsd.SYS_write, fd, 0x2000, 8), func(*sp.Frame) []byte { return make([]byte, 8) })
		assert.Equal(t, [2]uint64{8}, r.Retval, "the right size is taken")
		assert.Zero(t, r.Errno)

		mmap := p.args(netbsd.SYS_mmap, 0, 4096, netbsd.PROT_READ|netbsd.PROT_WRITE, netbsd.MAP_ANON|netbsd.MAP_PRIVATE, ^uint64(0), 0)
		for _, body := range [][]byte{nil, {1, 2, 3, 4}, make([]byte, 16)} {
			r := p.syscall(netbsd.SYS_mmap, mmap, func(req *sp.Frame) []byte {
				require.Equal(t, sp.TypeAnonMmap, req.Type)
				return body
			})
			assert.Equal(t, netbsd.EFAULT, r.Errno, "a %d-byte ANONMMAP answer", len(body))
		}
		assert.Equal(t, [2]uint64{2, 1}, p.getpid())
		assertServing(t, ts.url)
	})

	t.Run("the client refuses a header-only or short sysresp and keeps working", func(t *testing.T) {
		url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
			f, err := acceptedGuest(conn)
			if err != nil {
				return err
			}
			for _, body := range [][]byte{nil, make([]byte, 12), make([]byte, 47)} {
				s, err := f.expect(sp.ClassReq, sp.TypeSyscall)
				if err != nil {
					return err
				}
				if err := f.send(sp.Header{Reqno: s.Reqno, Class: sp.ClassResp, Type: sp.TypeSyscall}, body); err != nil {
					return err
				}
			}
			s, err := f.expect(sp.ClassReq, sp.TypeSyscall)
			if err != nil {
				return err
			}
			return f.reply(s.Reqno, 0, [2]uint64{2, 1})
		})
		c := dialFake(t, url, sp.DefaultClientConfig(amd64))
		ctx := ctxT(t)
		require.NoError(t, c.HandshakeGuest(ctx))
		for _, n := range []int{0, 12, 47} {
			_, err := c.Syscall(ctx, netbsd.SYS_getpid)
			require.ErrorIs(t, err, sp.ErrBodySize, "a %d-byte sysresp", n)
		}
		r, err := c.Syscall(ctx, netbsd.SYS_getpid)
		require.NoError(t, err)
		assert.Equal(t, sp.Result{Retval: [2]uint64{2, 1}}, words(r))
		waitFake(t, done)
	})

	t.Run("the client touches no memory for a short copy request and its call completes", func(t *testing.T) {
		mem := sptest.NewMemory(0x10000, 4096)
		addr := mem.AllocString("abc")
		url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
			f, err := acceptedGuest(conn)
			if err != nil {
				return err
			}
			s, err := f.expect(sp.ClassReq, sp.TypeSyscall)
			if err != nil {
				return err
			}
			valid, _ := f.codec.Copydata(4, addr, nil)
			copyout, _ := f.codec.Copydata(100, addr, nil)
			bad := []struct {
				t    sp.Type
				body []byte
			}{
				{sp.TypeCopyIn, valid[:8]},              // len without addr
				{sp.TypeCopyInStr, nil},                 // header only
				{sp.TypeCopyOut, nil},                   // header only
				{sp.TypeCopyOut, append(copyout, 1, 2)}, // announces 100, carries 2
				{sp.TypeAnonMmap, []byte{0, 0x10, 0}},   // 3 bytes of size_t
				{sp.TypeCopyIn, append(valid, 0, 0, 0)}, // trailing bytes
				{sp.TypeCopyOutStr, valid[:3]},          // a third of a length
				{sp.TypeCopyInStr, valid[:15]},          // one byte short
			}
			for i, b := range bad {
				if err := f.send(sp.Header{Reqno: uint64(i), Class: sp.ClassReq, Type: b.t}, b.body); err != nil {
					return err
				}
			}
			good := uint64(len(bad))
			if err := f.send(sp.Header{Reqno: good, Class: sp.ClassReq, Type: sp.TypeCopyIn}, valid); err != nil {
				return err
			}
			for {
				r, err := f.fr.ReadFrame()
				if err != nil {
					return err
				}
				if r.Class != sp.ClassResp {
					return fmt.Errorf("unexpected %s", r.Header)
				}
				if r.Reqno != good {
					// Malformed requests get an answer that carries
					// nothing: an empty COPYIN (EFAULT) or a NULL mapping.
					if len(r.Body) != 0 && !bytes.Equal(r.Body, make([]byte, len(r.Body))) {
						return fmt.Errorf("the client answered a malformed request with data: %s % x", r.Header, r.Body)
					}
					continue
				}
				if string(r.Body) != "abc\x00" {
					return fmt.Errorf("COPYIN answered %q", r.Body)
				}
				break
			}
			return f.reply(s.Reqno, 0, [2]uint64{2, 1})
		})
		cfg := sp.DefaultClientConfig(amd64)
		cm := &countingMemory{Memory: mem}
		cfg.Memory = cm
		c := dialFake(t, url, cfg)
		ctx := ctxT(t)
		require.NoError(t, c.HandshakeGuest(ctx))
		r, err := c.Syscall(ctx, netbsd.SYS_getpid)
		require.NoError(t, err)
		assert.Equal(t, sp.Result{Retval: [2]uint64{2, 1}}, words(r))
		assert.Equal(t, int64(1), cm.calls.Load(), "only the well-formed COPYIN reached memory")
		waitFake(t, done)
	})
}

func TestDefectGuestBodyOverreadAndEmptyGuestBody(t *testing.T) {
	tests := []struct {
		name    string
		version sp.Version
		body    []byte
		want    string // the program name the kernel gets
	}{
		{"a 0.1 client's empty body on a 0.4 server", sp.Version04, nil, ""},
		{"a body of only a NUL", sp.Version04, []byte{0}, ""},
		{"a name without its NUL, read to the body's end and no further", sp.Version04, []byte("abc"), "abc"},
		{"a name, its NUL and junk", sp.Version04, []byte("prog\x00junk"), "prog"},
		{"a 0.4 name on a 0.1 server, which has no names", sp.Version01, []byte("prog\x00"), ""},
		{"an empty body on a 0.1 server", sp.Version01, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newRecKernel()
			cfg := sp.DefaultServerConfig(mustABI("amd64"))
			cfg.Version = tt.version
			_, url := serveKernel(t, "unix", k, cfg)
			p, _ := dialWire(t, url)
			reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeHandshake, U: uint32(sp.HandshakeGuest)}, tt.body)
			f := p.read()
			require.Equal(t, sp.Header{Len: 28, Reqno: reqno, Class: sp.ClassResp, Type: sp.TypeHandshake}, f.Header)
			assert.Equal(t, []byte{0, 0, 0, 0}, f.Body)
			assert.Equal(t, tt.want, k.lastName())
			assert.Equal(t, [2]uint64{2, 1}, p.getpid())
			assertServing(t, url)
		})
	}

	t.Run("sprig's client speaking 0.1 sends an empty body to a 0.4 server", func(t *testing.T) {
		k := newRecKernel()
		_, url := serveKernel(t, "unix", k, sp.DefaultServerConfig(mustABI("amd64")))
		cfg := sp.DefaultClientConfig(mustABI("amd64"))
		cfg.Version = sp.Version01
		var mu sync.Mutex
		var guest *sp.Frame
		cfg.Trace = func(d sp.Direction, f *sp.Frame) {
			if d == sp.Sent && f.Type == sp.TypeHandshake {
				mu.Lock()
				guest = &sp.Frame{Header: f.Header, Body: bytes.Clone(f.Body)}
				mu.Unlock()
			}
		}
		c, _ := dialClient(t, url, cfg)
		ctx := ctxT(t)
		require.NoError(t, c.HandshakeGuest(ctx))
		r, err := c.Syscall(ctx, netbsd.SYS_getpid)
		require.NoError(t, err)
		assert.Equal(t, [2]uint64{2, 1}, r.Retval)
		mu.Lock()
		require.NotNil(t, guest)
		assert.Equal(t, uint64(sp.HeaderSize), guest.Len)
		assert.Empty(t, guest.Body)
		mu.Unlock()
		assertServing(t, url)
	})
}

func TestDefectPreforkDoubleLockDeadlock(t *testing.T) {
	for _, v := range []sp.Version{sp.Version01, sp.Version04} {
		for _, scheme := range []string{"unix", "tcp"} {
			t.Run(scheme+"/"+v.String(), func(t *testing.T) {
				cfg := sp.DefaultServerConfig(mustABI("amd64"))
				cfg.Version = v
				ts := startServer(t, scheme, cfg)
				// A deadlocked server would leave these waiting.
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				parent, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
				require.NoError(t, parent.HandshakeGuest(ctx))
				for i := range 3 {
					ck, err := parent.Prefork(ctx)
					require.NoError(t, err)
					child, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
					require.NoError(t, child.HandshakeFork(ctx, ck, false), "fork %d", i)
					r, err := child.Syscall(ctx, netbsd.SYS_getpid)
					require.NoError(t, err)
					assert.Equal(t, [2]uint64{uint64(3 + i), 2}, r.Retval, "fork %d", i)
				}

				ck, err := parent.Prefork(ctx)
				require.NoError(t, err)
				dropper, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
				require.ErrorIs(t, dropper.HandshakeFork(ctx, ck, true), sp.ErrClosed, "a cancelled fork closes the connection")
				assert.Zero(t, ts.srv.PendingForks())

				r, err := parent.Syscall(ctx, netbsd.SYS_getpid)
				require.NoError(t, err)
				assert.Equal(t, [2]uint64{2, 1}, r.Retval)
				assertServing(t, ts.url)
			})
		}
	}
}

func TestDefectCopyinstrReplyUncapped(t *testing.T) {
	ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
	p, _ := dialWire(t, ts.url)
	p.guest("uncapped")
	path := func(n int, nul bool) []byte {
		b := bytes.Repeat([]byte("a"), n)
		b[0] = '/'
		if nul {
			b[n-1] = 0
		}
		return b
	}
	tests := []struct {
		name  string
		reply []byte
		want  netbsd.Errno
	}{
		{"the requested 1024 bytes, NUL last, are taken", path(1024, true), netbsd.ENOENT},
		{"one byte more than requested is EFAULT", path(1025, true), netbsd.EFAULT},
		{"64 KiB is EFAULT", path(1<<16, true), netbsd.EFAULT},
		{"1024 bytes without a NUL are ENAMETOOLONG", path(1024, false), netbsd.ENAMETOOLONG},
		{"a short string is taken", []byte("/missing\x00"), netbsd.ENOENT},
		{"an empty reply is ENAMETOOLONG, as on the real server", []byte{}, netbsd.ENAMETOOLONG},
		{"a short reply without a NUL is ENAMETOOLONG", []byte("/tmp"), netbsd.ENAMETOOLONG},
	}
	for _, tt := range tests {
		r := p.syscall(netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, netbsd.O_RDONLY, 0), func(req *sp.Frame) []byte {
			require.Equal(t, sp.TypeCopyInStr, req.Type)
			n, addr, _, err := p.codec.ParseCopydata(req.Body, false)
			require.NoError(t, err)
			require.Equal(t, uint64(netbsd.PATH_MAX), n)
			require.Equal(t, uint64(0x1000), addr)
			return tt.reply
		})
		assert.Equal(t, tt.want, r.Errno, tt.name)
	}
	assert.Equal(t, [2]uint64{2, 1}, p.getpid(), "the client that over-answered is still served")
	assertServing(t, ts.url)
}

func TestDefectSyscallNumberSignWrap(t *testing.T) {
	k := newRecKernel()
	_, url := serveKernel(t, "unix", k, sp.DefaultServerConfig(mustABI("amd64")))
	c, _ := dialClient(t, url, sp.DefaultClientConfig(mustABI("amd64")))
	ctx := ctxT(t)
	require.NoError(t, c.HandshakeGuest(ctx))
	for _, num := range []netbsd.Sysno{1 << 31, 1<<31 | netbsd.SYS_getpid, 1<<31 | netbsd.SYS_open, 0xffff_ffff, 0xffff_ffff - 77} {
		r, err := c.SyscallBody(ctx, num, make([]byte, 24))
		require.NoError(t, err)
		assert.Equal(t, sp.Result{Errno: netbsd.ENOSYS}, words(r), "syscall %#x", uint32(num))
		assert.Equal(t, num, k.lastCall().num, "the kernel got the number unchanged")
	}

	// A raw client: open+2^31 must not reach open (no COPYINSTR).
	p, _ := dialWire(t, url)
	p.guest("wrap")
	r := p.syscall(1<<31|netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, 0, 0), nil)
	assert.Equal(t, netbsd.ENOSYS, r.Errno)
	assert.Equal(t, [2]uint64{3, 1}, p.getpid())
	assertServing(t, url)
}

func TestDefectUnknownHandshakeSilence(t *testing.T) {
	for _, v := range []sp.Version{sp.Version01, sp.Version04} {
		t.Run(v.String(), func(t *testing.T) {
			cfg := sp.DefaultServerConfig(mustABI("amd64"))
			cfg.Version = v
			ts := startServer(t, "unix", cfg)
			want := uint32(sp.ErrorAuth)
			if v == sp.Version01 {
				want = uint32(netbsd.EAUTH)
			}
			for _, kind := range []sp.HandshakeKind{sp.HandshakeAuth, sp.HandshakeExec, 9, 0xffff_ffff} {
				p, _ := dialWire(t, ts.url)
				reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeHandshake, U: uint32(kind)}, []byte("x\x00"))
				// read fails after its deadline if the server stays silent.
				f := p.read()
				assert.Equal(t, sp.Header{Len: sp.HeaderSize, Reqno: reqno, Class: sp.ClassError, Type: sp.TypeHandshake, U: want}, f.Header, "kind %s", kind)
				p.expectClosed()
			}
			assert.Zero(t, ts.kernel.Procs())
			assertServing(t, ts.url)
		})
	}
}

func TestDefectPreforkCookiesNeverFreed(t *testing.T) {
	// Pending forks outlive their parent (rumpclient_daemon needs it) but
	// not for ever: unclaimed ones expire, which the C server never does.
	cfg := sp.DefaultServerConfig(mustABI("amd64"))
	cfg.PendingForkTimeout = 300 * time.Millisecond
	ts := startServer(t, "unix", cfg)
	ctx := ctxT(t)
	parent, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, parent.HandshakeGuest(ctx))
	var cookies []sp.Cookie
	for range 4 {
		ck, err := parent.Prefork(ctx)
		require.NoError(t, err)
		cookies = append(cookies, ck)
	}
	assert.Equal(t, 4, ts.srv.PendingForks())
	assert.Equal(t, 5, ts.kernel.Procs())

	// One child is claimed before the parent leaves; it must live on.
	child, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, child.HandshakeFork(ctx, cookies[0], false))
	assert.Equal(t, 3, ts.srv.PendingForks())

	require.NoError(t, parent.Close())
	require.Eventually(t, func() bool { return ts.kernel.Exits() == 1 }, 2*time.Second, time.Millisecond, "the parent exits")
	assert.Equal(t, 3, ts.srv.PendingForks(), "the parent's forks outlive it")
	require.Eventually(t, func() bool { return ts.srv.PendingForks() == 0 }, 2*time.Second, time.Millisecond, "unclaimed forks expire")
	require.Eventually(t, func() bool { return ts.kernel.Exits() == 4 }, 2*time.Second, time.Millisecond, "the parent and its 3 unclaimed children exit")
	assert.Equal(t, 1, ts.kernel.Procs(), "only the claimed child is left")

	r, err := child.Syscall(ctx, netbsd.SYS_getpid)
	require.NoError(t, err)
	assert.Equal(t, [2]uint64{3, 2}, r.Retval)

	late, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
	err = late.HandshakeFork(ctx, cookies[1], false)
	var se *sp.ServerError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, uint32(sp.ErrorInvalidPrefork), se.Code, "an expired cookie is unknown")
	assertServing(t, ts.url)
}

// sessionFrames records the headers of every frame each side sent.
type sessionFrames struct {
	mu             sync.Mutex
	client, server []sp.Header
}

func (s *sessionFrames) add(to *[]sp.Header, h sp.Header) {
	s.mu.Lock()
	*to = append(*to, h)
	s.mu.Unlock()
}

// everyFrameSession drives sprig's client and server through every kind
// of frame each ever sends: handshakes of every kind, syscalls with
// COPYIN, COPYINSTR, COPYOUT, ANONMMAP and RAISE, ENOSYS, PREFORK and
// FORK, EXEC, a burst of concurrent syscalls, and ERROR frames.
// wrapServer and wrapClient, when not nil, see every connection of their
// side.
func everyFrameSession(t *testing.T, scheme string, wrapServer, wrapClient func(net.Conn) net.Conn) *sessionFrames {
	t.Helper()
	if wrapClient == nil {
		wrapClient = func(c net.Conn) net.Conn { return c }
	}
	sf := &sessionFrames{}
	scfg := sp.DefaultServerConfig(mustABI("amd64"))
	scfg.Trace = func(_ *sp.ConnInfo, d sp.Direction, f *sp.Frame) {
		if d == sp.Sent {
			sf.add(&sf.server, f.Header)
		}
	}
	k := sptest.NewKernel()
	_, url := serveKernelWrapped(t, scheme, k, scfg, wrapServer)
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	ctx := ctxT(t)
	dial := func() (*sp.Client, *sptest.Memory) {
		conn, err := u.Dial(ctx)
		require.NoError(t, err)
		mem := sptest.NewMemory(0x7f00_0000_0000, 1<<20)
		cfg := sp.DefaultClientConfig(mustABI("amd64"))
		cfg.Memory = mem
		cfg.OnSignal = mem.Raise
		cfg.Trace = func(d sp.Direction, f *sp.Frame) {
			if d == sp.Sent {
				sf.add(&sf.client, f.Header)
			}
		}
		c, err := sp.NewClient(wrapClient(conn), cfg)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c, mem
	}
	call := func(c *sp.Client, num netbsd.Sysno, args ...any) sp.Result {
		t.Helper()
		r, err := c.Syscall(ctx, num, args...)
		require.NoError(t, err)
		return r
	}

	c, mem := dial()
	require.NoError(t, c.HandshakeGuest(ctx))
	assert.Equal(t, [2]uint64{2, 1}, call(c, netbsd.SYS_getpid).Retval)
	r := call(c, netbsd.SYS_open, mem.AllocString("/every"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	require.Zero(t, r.Errno)
	fd := r.Retval[0]
	msg := bytes.Repeat([]byte("frame "), 700)
	assert.Equal(t, uint64(len(msg)), call(c, netbsd.SYS_write, fd, mem.Alloc(len(msg), msg), uint64(len(msg))).Retval[0])
	call(c, netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET)
	buf := mem.Alloc(len(msg), nil)
	assert.Equal(t, uint64(len(msg)), call(c, netbsd.SYS_read, fd, buf, uint64(len(msg))).Retval[0])
	assert.Equal(t, msg, mem.Read(buf, len(msg)))
	require.Zero(t, call(c, netbsd.SYS___fstat50, fd, mem.Alloc(200, nil)).Errno)
	r = call(c, netbsd.SYS_mmap, 0, 4096, netbsd.PROT_READ|netbsd.PROT_WRITE, netbsd.MAP_ANON|netbsd.MAP_PRIVATE, ^uint64(0), 0)
	require.Zero(t, r.Errno)
	require.Zero(t, call(c, netbsd.SYS_kill, 2, uint64(netbsd.SIGUSR1)).Errno)
	call(c, netbsd.SYS_getpid) // the RAISE came before this reply
	assert.Equal(t, []int32{int32(netbsd.SIGUSR1)}, mem.Signals())
	assert.Equal(t, netbsd.ENOSYS, call(c, 9999).Errno)

	// A burst of concurrent calls, each with a COPYIN and a COPYOUT.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				data := bytes.Repeat([]byte{byte(g), byte(i)}, 256)
				r, err := c.Syscall(ctx, netbsd.SYS_write, fd, mem.Alloc(len(data), data), uint64(len(data)))
				assert.NoError(t, err)
				assert.Equal(t, uint64(len(data)), r.Retval[0])
				r, err = c.Syscall(ctx, netbsd.SYS_read, fd, mem.Alloc(64, nil), 64)
				assert.NoError(t, err)
				assert.Zero(t, r.Errno)
			}
		}()
	}
	wg.Wait()

	ck, err := c.Prefork(ctx)
	require.NoError(t, err)
	child, _ := dial()
	require.NoError(t, child.HandshakeFork(ctx, ck, false))
	assert.Equal(t, [2]uint64{3, 2}, call(child, netbsd.SYS_getpid).Retval)
	require.NoError(t, child.HandshakeExec(ctx, "exec'd"))
	require.Zero(t, call(c, netbsd.SYS_close, fd).Errno)

	// ERROR frames: a syscall before the handshake.
	conn, err := u.Dial(ctx)
	require.NoError(t, err)
	p := newWirePeer(t, conn)
	p.deadline()
	_, err = sp.ReadBanner(conn)
	require.NoError(t, err)
	p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeSyscall, U: uint32(netbsd.SYS_getpid)}, nil)
	assert.Equal(t, sp.ClassError, p.read().Class)
	p.expectClosed()
	return sf
}

// checkKnownFrames checks that every frame a side sent has a class and a
// type the C peer knows, and is one it may receive from that side.
func checkKnownFrames(t *testing.T, side string, hs []sp.Header, allowed map[sp.Class][]sp.Type) {
	t.Helper()
	require.NotEmpty(t, hs)
	seen := map[string]bool{}
	for _, h := range hs {
		assert.LessOrEqual(t, h.Class, sp.ClassError, "%s sent an unknown class: %s", side, h)
		assert.LessOrEqual(t, h.Type, sp.TypeRaise, "%s sent an unknown type: %s", side, h)
		assert.Contains(t, allowed[h.Class], h.Type, "%s may not send %s", side, h)
		seen[h.Class.String()+" "+h.Type.String()] = true
	}
	// The session reached every kind it may send.
	for class, types := range allowed {
		for _, ty := range types {
			assert.True(t, seen[class.String()+" "+ty.String()], "%s never sent %s %s in the session", side, class, ty)
		}
	}
}

var (
	clientMaySend = map[sp.Class][]sp.Type{
		sp.ClassReq:  {sp.TypeHandshake, sp.TypeSyscall, sp.TypePrefork},
		sp.ClassResp: {sp.TypeCopyIn, sp.TypeAnonMmap},
	}
	serverMaySend = map[sp.Class][]sp.Type{
		sp.ClassReq:   {sp.TypeCopyIn, sp.TypeCopyInStr, sp.TypeCopyOut, sp.TypeAnonMmap, sp.TypeRaise},
		sp.ClassResp:  {sp.TypeHandshake, sp.TypeSyscall, sp.TypePrefork},
		sp.ClassError: {sp.TypeHandshake},
	}
)

func TestDefectClientLoopsOnUnknownClass(t *testing.T) {
	t.Run("sprig's client skips frames of unknown class, even with a pending reqno", func(t *testing.T) {
		url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
			f := newFakeConn(conn)
			g, err := f.expect(sp.ClassReq, sp.TypeHandshake)
			if err != nil {
				return err
			}
			// Taken for the answer, this would refuse the handshake.
			if err := f.send(sp.Header{Reqno: g.Reqno, Class: 3, Type: sp.TypeHandshake}, f.codec.Int(5)); err != nil {
				return err
			}
			if err := f.send(sp.Header{Reqno: g.Reqno, Class: sp.ClassResp, Type: sp.TypeHandshake}, f.codec.Int(0)); err != nil {
				return err
			}
			s, err := f.expect(sp.ClassReq, sp.TypeSyscall)
			if err != nil {
				return err
			}
			for _, class := range []sp.Class{3, 9, 0xffff} {
				if err := f.send(sp.Header{Reqno: s.Reqno, Class: class, Type: sp.TypeSyscall}, f.codec.Sysresp(sp.Result{Retval: [2]uint64{99, 99}})); err != nil {
					return err
				}
			}
			return f.reply(s.Reqno, 0, [2]uint64{2, 1})
		})
		c := dialFake(t, url, sp.DefaultClientConfig(mustABI("amd64")))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		require.NoError(t, c.HandshakeGuest(ctx))
		r, err := c.Syscall(ctx, netbsd.SYS_getpid)
		require.NoError(t, err)
		assert.Equal(t, sp.Result{Retval: [2]uint64{2, 1}}, words(r))
		waitFake(t, done)
	})

	t.Run("sprig's server answers an unknown class and keeps the connection", func(t *testing.T) {
		for _, v := range []sp.Version{sp.Version01, sp.Version04} {
			cfg := sp.DefaultServerConfig(mustABI("amd64"))
			cfg.Version = v
			ts := startServer(t, "unix", cfg)
			p, _ := dialWire(t, ts.url)
			p.guest("classy")
			p.write(sp.Header{Reqno: 77, Class: 9, Type: sp.TypeSyscall, U: uint32(netbsd.SYS_getpid)}, nil)
			want := uint32(sp.ErrorMalformed)
			if v == sp.Version01 {
				want = uint32(netbsd.ENOENT)
			}
			assert.Equal(t, sp.Header{Len: sp.HeaderSize, Reqno: 77, Class: sp.ClassError, Type: sp.TypeHandshake, U: want}, p.read().Header, v.String())
			assert.Equal(t, [2]uint64{2, 1}, p.getpid())
			assertServing(t, ts.url)
		}
	})

	t.Run("sprig's client and server never send an unknown class", func(t *testing.T) {
		sf := everyFrameSession(t, "unix", nil, nil)
		sf.mu.Lock()
		defer sf.mu.Unlock()
		for _, h := range sf.client {
			assert.LessOrEqual(t, h.Class, sp.ClassResp, "the client sent %s", h)
		}
		for _, h := range sf.server {
			assert.LessOrEqual(t, h.Class, sp.ClassError, "the server sent %s", h)
		}
	})
}

func TestDefectClientAbortsOnUnknownType(t *testing.T) {
	t.Run("sprig's client ignores requests of a type it does not serve", func(t *testing.T) {
		url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
			f, err := acceptedGuest(conn)
			if err != nil {
				return err
			}
			s, err := f.expect(sp.ClassReq, sp.TypeSyscall)
			if err != nil {
				return err
			}
			for i, ty := range []sp.Type{42, 0xffff, sp.TypeHandshake, sp.TypeSyscall, sp.TypePrefork} {
				if err := f.send(sp.Header{Reqno: uint64(i), Class: sp.ClassReq, Type: ty}, make([]byte, 16)); err != nil {
					return err
				}
			}
			if err := f.reply(s.Reqno, 0, [2]uint64{2, 1}); err != nil {
				return err
			}
			// The client's next frame is its next request: it answered
			// none of the unknown ones.
			if _, err := f.expect(sp.ClassReq, sp.TypeSyscall); err != nil {
				return err
			}
			return nil
		})
		c := dialFake(t, url, sp.DefaultClientConfig(mustABI("amd64")))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		require.NoError(t, c.HandshakeGuest(ctx))
		r, err := c.Syscall(ctx, netbsd.SYS_getpid)
		require.NoError(t, err)
		assert.Equal(t, sp.Result{Retval: [2]uint64{2, 1}}, words(r))
		select {
		case <-c.Done():
			require.FailNow(t, "the client died", "%v", c.Err())
		default:
		}
		c.Syscall(ctx, netbsd.SYS_getpid) // lets the fake server see it; the fake then hangs up
		waitFake(t, done)
	})

	t.Run("sprig's server answers an unknown request type and keeps the connection", func(t *testing.T) {
		ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
		p, _ := dialWire(t, ts.url)
		p.guest("typed")
		for _, ty := range []sp.Type{42, sp.TypeCopyOut, sp.TypeRaise, 0xffff} {
			reqno := p.write(sp.Header{Class: sp.ClassReq, Type: ty}, nil)
			assert.Equal(t, sp.Header{Len: sp.HeaderSize, Reqno: reqno, Class: sp.ClassError, Type: sp.TypeHandshake, U: uint32(sp.ErrorMalformed)}, p.read().Header)
		}
		assert.Equal(t, [2]uint64{2, 1}, p.getpid())
		assertServing(t, ts.url)
	})

	t.Run("sprig's client and server send only types their peer accepts from them", func(t *testing.T) {
		sf := everyFrameSession(t, "unix", nil, nil)
		sf.mu.Lock()
		defer sf.mu.Unlock()
		checkKnownFrames(t, "the client", sf.client, clientMaySend)
		checkKnownFrames(t, "the server", sf.server, serverMaySend)
	})
}

// writeLog records each Write on a connection.
type writeLog struct {
	mu     sync.Mutex
	side   string
	writes [][]byte
}

type loggedConn struct {
	net.Conn
	log *writeLog
}

func (c loggedConn) Write(b []byte) (int, error) {
	c.log.mu.Lock()
	c.log.writes = append(c.log.writes, bytes.Clone(b))
	c.log.mu.Unlock()
	return c.Conn.Write(b)
}

// dribbleConn writes everything one byte at a time.
type dribbleConn struct{ net.Conn }

func (c dribbleConn) Write(b []byte) (int, error) {
	for i := range b {
		if _, err := c.Conn.Write(b[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(b), nil
}

func TestDefectSplitHeader(t *testing.T) {
	for _, scheme := range []string{"unix", "tcp"} {
		t.Run(scheme+": every frame from sprig's client and server goes out in one write", func(t *testing.T) {
			var mu sync.Mutex
			var logs []*writeLog
			wrap := func(side string) func(net.Conn) net.Conn {
				return func(c net.Conn) net.Conn {
					l := &writeLog{side: side}
					mu.Lock()
					logs = append(logs, l)
					mu.Unlock()
					return loggedConn{Conn: c, log: l}
				}
			}
			sf := everyFrameSession(t, scheme, wrap("server"), wrap("client"))

			mu.Lock()
			defer mu.Unlock()
			sf.mu.Lock()
			defer sf.mu.Unlock()
			writes := map[string]int{}
			banners, serverConns := 0, 0
			for _, l := range logs {
				l.mu.Lock()
				if l.side == "server" {
					serverConns++
				}
				for i, w := range l.writes {
					if l.side == "server" && i == 0 {
						_, err := sp.ParseBanner(string(w))
						assert.NoError(t, err, "the banner is one write")
						banners++
						continue
					}
					// A write holds whole frames: one, or (the server's
					// coalesced COPYOUTs and a reply) several, never a part.
					for len(w) > 0 {
						require.GreaterOrEqual(t, len(w), sp.HeaderSize, "%s wrote %d bytes: part of a header", l.side, len(w))
						n := binary.LittleEndian.Uint64(w)
						require.True(t, n >= sp.HeaderSize && n <= uint64(len(w)), "%s wrote part of a frame (%d of %d bytes)", l.side, len(w), n)
						w = w[n:]
						writes[l.side]++
					}
				}
				l.mu.Unlock()
			}
			assert.Equal(t, 3, serverConns, "the parent, the child and the error probe")
			assert.Equal(t, serverConns, banners)
			assert.Equal(t, len(sf.client), writes["client"], "every frame the client sent, whole")
			assert.Equal(t, len(sf.server), writes["server"], "every frame the server sent, whole")
		})
	}

	t.Run("sprig's server reads a client that splits every frame into single bytes", func(t *testing.T) {
		ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
		u, err := sp.ParseURL(ts.url)
		require.NoError(t, err)
		conn, err := u.Dial(ctxT(t))
		require.NoError(t, err)
		p := newWirePeer(t, dribbleConn{conn})
		p.deadline()
		_, err = sp.ReadBanner(conn)
		require.NoError(t, err)
		p.guest("dribble")
		assert.Equal(t, [2]uint64{2, 1}, p.getpid())
		assertServing(t, ts.url)
	})

	t.Run("sprig's client reads a server that splits every frame into single bytes", func(t *testing.T) {
		url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
			f, err := acceptedGuest(dribbleConn{conn})
			if err != nil {
				return err
			}
			s, err := f.expect(sp.ClassReq, sp.TypeSyscall)
			if err != nil {
				return err
			}
			return f.reply(s.Reqno, 0, [2]uint64{2, 1})
		})
		c := dialFake(t, url, sp.DefaultClientConfig(mustABI("amd64")))
		ctx := ctxT(t)
		require.NoError(t, c.HandshakeGuest(ctx))
		r, err := c.Syscall(ctx, netbsd.SYS_getpid)
		require.NoError(t, err)
		assert.Equal(t, sp.Result{Retval: [2]uint64{2, 1}}, words(r))
		waitFake(t, done)
	})
}
