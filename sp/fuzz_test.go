package sp_test

// Fuzz targets for everything in sp that reads bytes a peer chose: the
// framer, every body decoder, the banner, URLs, the GUEST body (program
// name and ABI declaration) and a whole server connection. `go test` runs
// the seeds below (and any files in testdata/fuzz/<Target>/); `go test
// -fuzz '^FuzzX$'` explores from them.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// fuzzMaxFrame is the frame limit of the framer target: small, so that a
// body over the limit is easy to reach and any allocation beyond it shows.
const fuzzMaxFrame = 4096

// fuzzTimeout bounds each blocking step of the server targets; an input
// that makes the server hang fails rather than stalling the fuzzer.
const fuzzTimeout = 5 * time.Second

// Golden frames of the real C pair (golden-amd64.md), used as seeds.
var fzGoldenFrames = []string{
	// REQ HANDSHAKE GUEST "golden"
	"1f00000000000000" + "0100000000000000" + "0000" + "0000" + "00000000" + "676f6c64656e00",
	// REQ SYSCALL getpid
	"180000000000000002000000000000000000010014000000",
	// RESP SYSCALL getpid, with the 4 uninitialised bytes
	"30000000000000000200000000000000010001000000000000000000" + "9d7f0000" + "0200000000000000" + "0100000000000000",
	// REQ SYSCALL open
	"300000000000000003000000000000000000010005000000" + "1f307ed51e560000" + "0202000000000000" + "a401000000000000",
	// REQ COPYINSTR
	"280000000000000000000000000000000000030000000000" + "0004000000000000" + "1f307ed51e560000",
	// RESP COPYIN "/golden.txt\0"
	"240000000000000000000000000000000100020000000000" + "2f676f6c64656e2e74787400",
	// REQ COPYOUT of 22 bytes
	"3e0000000000000002000000000000000000040000000000" + "1600000000000000" + "20e7a2bdfe7f0000" +
		"68656c6c6f2c2072756d70207379737072" + "6f7879210a",
	// ERROR AUTH
	"180000000000000001000000000000000200000002000000",
	// RESP PREFORK
	"280000000000000003000000000000000100070000000000" + "066ad103e86aec6f41d681546b815d75",
	// REQ HANDSHAKE FORK
	"2c0000000000000001000000000000000000000002000000" + "066ad103e86aec6f41d681546b815d75" + "00000000",
}

func fzUnhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad seed hex %q: %v", s, err)
	}
	return b
}

// fzFrame encodes one frame the way peer d would send it.
func fzFrame(t testing.TB, d *abi.Descriptor, h sp.Header, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := sp.NewFramer(nil, &buf, d).WriteFrame(h, body); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fzArgs lays out a syscall's arguments for d.
func fzArgs(t testing.TB, d *abi.Descriptor, num netbsd.Sysno, args ...uint64) []byte {
	t.Helper()
	a := netbsd.LayoutsFor(d).Args(num)
	if a == nil {
		t.Fatalf("no argument layout for %s", num)
	}
	b, err := a.Encode(0, args...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fzReq(reqno uint64, t sp.Type, u uint32) sp.Header {
	return sp.Header{Reqno: reqno, Class: sp.ClassReq, Type: t, U: u}
}

func fzGuestHeader(reqno uint64) sp.Header {
	return fzReq(reqno, sp.TypeHandshake, uint32(sp.HandshakeGuest))
}

func fzDeclJSON(t testing.TB, d *abi.Descriptor) []byte {
	t.Helper()
	js, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// fzCodecs holds a codec for every built-in ABI, shared by the decoder
// targets.
var fzCodecs = func() []*sp.Codec {
	var cs []*sp.Codec
	for _, d := range abi.All() {
		cs = append(cs, sp.NewCodec(d))
	}
	return cs
}()

// ---------------------------------------------------------------- framer

func FuzzFramerReadFrame(f *testing.F) {
	for _, s := range fzGoldenFrames {
		f.Add(fzUnhex(f, s))
	}
	var conv []byte
	for _, s := range fzGoldenFrames {
		conv = append(conv, fzUnhex(f, s)...)
	}
	f.Add(conv)
	mips := abi.MustLookup("mips")
	f.Add(fzFrame(f, mips, fzGuestHeader(1), []byte("golden\x00")))
	f.Add(append(fzFrame(f, mips, fzReq(2, sp.TypeSyscall, uint32(netbsd.SYS_getpid)), nil),
		fzFrame(f, mips, fzReq(3, sp.TypeSyscall, uint32(netbsd.SYS_write)), make([]byte, 12))...))
	f.Add([]byte{})
	f.Add(make([]byte, 23))                                                 // short header
	f.Add(make([]byte, 24))                                                 // length 0 < header
	f.Add(fzUnhex(f, "ffffffffffffffff0100000000000000000001001400000000")) // huge (LE)
	f.Add(fzUnhex(f, "0000000000001001010000000000000000000100140000"))     // header cut short
	f.Add(fzUnhex(f, "00100000000000000100000000000000000001001400000000")) // 4096: just over the limit
	f.Add(fzUnhex(f, "f80f0000000000000100000000000000000001001400000000")) // 4088: inside, body missing

	ordered := []*abi.Descriptor{abi.MustLookup("amd64"), mips}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range ordered {
			whole := fzReadAllFrames(t, d, bytes.NewReader(data), len(data))
			// A Framer on a bufio.Reader reads through it (readBuffered):
			// it must read the same frames and end the same way, whether
			// a frame lies whole in the buffer or arrives a byte at a time
			// into one smaller than the frame; one smaller than a header
			// is read around.
			others := map[string]fzFramesRead{
				"a one-byte reader":                fzReadAllFrames(t, d, iotest.OneByteReader(bytes.NewReader(data)), len(data)),
				"a bufio.Reader":                   fzReadAllFrames(t, d, bufio.NewReader(bytes.NewReader(data)), len(data)),
				"a 32-byte bufio.Reader, bytewise": fzReadAllFrames(t, d, bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 32), len(data)),
				"a 16-byte bufio.Reader":           fzReadAllFrames(t, d, bufio.NewReaderSize(bytes.NewReader(data), 16), len(data)),
			}
			for name, other := range others {
				if len(whole.frames) != len(other.frames) || whole.end != other.end {
					t.Fatalf("%s: %s gives %d frames ending %q, a whole reader %d ending %q",
						d.Name, name, len(other.frames), other.end, len(whole.frames), whole.end)
				}
			}
			off := 0
			for i, fr := range whole.frames {
				for name, other := range others {
					if !bytes.Equal(fr.Body, other.frames[i].Body) || fr.Header != other.frames[i].Header {
						t.Fatalf("%s: frame %d differs between a whole reader and %s", d.Name, i, name)
					}
				}
				// Writing the frame back must give exactly the bytes read.
				back := fzFrame(t, d, fr.Header, fr.Body)
				if !bytes.Equal(back, data[off:off+len(back)]) {
					t.Fatalf("%s: frame %d re-encodes as %x, read from %x", d.Name, i, back, data[off:off+len(back)])
				}
				off += len(back)
			}
			if whole.end == "eof" && off != len(data) {
				t.Fatalf("%s: clean EOF with %d bytes unread", d.Name, len(data)-off)
			}
		}
	})
}

type fzFramesRead struct {
	frames []*sp.Frame
	end    string // eof, short, too-large, too-short
}

// fzReadAllFrames reads frames until an error, checking every frame against
// the limit and every error against the ones the framer may return.
func fzReadAllFrames(t *testing.T, d *abi.Descriptor, r io.Reader, n int) fzFramesRead {
	fr := sp.NewFramer(r, io.Discard, d)
	fr.MaxFrame = fuzzMaxFrame
	var out fzFramesRead
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			if f != nil {
				t.Fatalf("%s: ReadFrame returned a frame and %v", d.Name, err)
			}
			var pe *sp.ProtocolError
			switch {
			case errors.As(err, &pe):
				switch {
				case errors.Is(err, sp.ErrFrameTooLarge):
					out.end = "too-large"
					if pe.Header.Len <= fuzzMaxFrame {
						t.Fatalf("%s: %v for a %d-byte frame", d.Name, err, pe.Header.Len)
					}
				case errors.Is(err, sp.ErrFrameTooShort):
					out.end = "too-short"
					if pe.Header.Len >= sp.HeaderSize {
						t.Fatalf("%s: %v for a %d-byte frame", d.Name, err, pe.Header.Len)
					}
				default:
					t.Fatalf("%s: protocol error with an unexpected sentinel: %v", d.Name, err)
				}
				_ = pe.Error()
			case err == io.EOF:
				out.end = "eof"
			case errors.Is(err, io.ErrUnexpectedEOF):
				out.end = "short"
			default:
				t.Fatalf("%s: ReadFrame: unexpected error %T %v", d.Name, err, err)
			}
			return out
		}
		if f.Len < sp.HeaderSize || f.Len > fuzzMaxFrame {
			t.Fatalf("%s: accepted a frame of length %d (limit %d)", d.Name, f.Len, fuzzMaxFrame)
		}
		if uint64(len(f.Body)) != f.BodyLen() || cap(f.Body) > fuzzMaxFrame-sp.HeaderSize {
			t.Fatalf("%s: body len %d cap %d for a %d-byte frame", d.Name, len(f.Body), cap(f.Body), f.Len)
		}
		_ = f.Header.String()
		out.frames = append(out.frames, f)
		if len(out.frames) > n/sp.HeaderSize {
			t.Fatalf("%s: %d frames from %d bytes", d.Name, len(out.frames), n)
		}
	}
}

// TestFramerRefusesHugeFramesBeforeAllocating checks the "never allocate
// more than MaxFrame" half of the framer contract directly: a header
// announcing an enormous body costs no more than a few bytes.
func TestFramerRefusesHugeFramesBeforeAllocating(t *testing.T) {
	for _, d := range []*abi.Descriptor{abi.MustLookup("amd64"), abi.MustLookup("sparc64")} {
		for _, n := range []uint64{fuzzMaxFrame + 1, 1 << 30, 1<<63 + 5, ^uint64(0)} {
			var raw [sp.HeaderSize]byte
			d.ByteOrder().PutUint64(raw[:], n)
			fr := sp.NewFramer(bytes.NewReader(raw[:]), io.Discard, d)
			fr.MaxFrame = fuzzMaxFrame
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := fr.ReadFrame()
			runtime.ReadMemStats(&after)
			if !errors.Is(err, sp.ErrFrameTooLarge) {
				t.Fatalf("%s len %d: err %v, want ErrFrameTooLarge", d.Name, n, err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > fuzzMaxFrame {
				t.Fatalf("%s len %d: allocated %d bytes to refuse the frame", d.Name, n, got)
			}
		}
	}
}

// ---------------------------------------------------------------- bodies

// fzCheckPadded compares a re-encoded body with the original
// outside the layout's padding, and checks padding holds the fill.
func fzCheckPadded(t *testing.T, c *sp.Codec, l *abi.Layout, orig, enc []byte) {
	t.Helper()
	if len(enc) != len(orig) {
		t.Fatalf("%s: re-encoded %d bytes from %d", c.ABI.Name, len(enc), len(orig))
	}
	pad := make([]bool, len(orig))
	for _, p := range l.Padding() {
		for i := p.Offset; i < p.Offset+p.Size && i < len(pad); i++ {
			pad[i] = true
		}
	}
	for i := range orig {
		switch {
		case pad[i] && enc[i] != c.PadFill:
			t.Fatalf("%s: padding byte %d is %#x, want fill %#x", c.ABI.Name, i, enc[i], c.PadFill)
		case !pad[i] && enc[i] != orig[i]:
			t.Fatalf("%s: byte %d re-encodes as %#x, was %#x (%x vs %x)", c.ABI.Name, i, enc[i], orig[i], enc, orig)
		}
	}
}

func fzWantBodySizeErr(t *testing.T, c *sp.Codec, what string, err error) {
	t.Helper()
	if !errors.Is(err, sp.ErrBodySize) {
		t.Fatalf("%s: %s: error %v does not wrap ErrBodySize", c.ABI.Name, what, err)
	}
}

func FuzzParseSysresp(f *testing.F) {
	f.Add(fzUnhex(f, "00000000"+"9d7f0000"+"0200000000000000"+"0100000000000000")) // amd64 getpid
	f.Add(fzUnhex(f, "4e000000"+"8a7f0000"+"0000000000000000"+"0000000000000000")) // ENOSYS
	f.Add(fzUnhex(f, "00000002"+"00000003"+"00000001"))                            // mips getpid
	f.Add(fzUnhex(f, "00000000a5a5a5a5ffffffffffffffff8000000000000000"))
	f.Add([]byte{})
	f.Add(make([]byte, 11))
	f.Add(make([]byte, 13))
	f.Add(make([]byte, 25))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, c := range fzCodecs {
			l := netbsd.LayoutsFor(c.ABI).Sysresp
			r, err := c.ParseSysresp(body)
			if err != nil {
				fzWantBodySizeErr(t, c, "ParseSysresp", err)
				if len(body) == l.Size {
					t.Fatalf("%s: %d-byte sysresp refused: %v", c.ABI.Name, len(body), err)
				}
				continue
			}
			if len(body) != l.Size {
				t.Fatalf("%s: accepted a %d-byte sysresp, size is %d", c.ABI.Name, len(body), l.Size)
			}
			fzCheckPadded(t, c, l, body, c.Sysresp(r))
		}
	})
}

func FuzzParseCopydata(f *testing.F) {
	f.Add(fzUnhex(f, "0004000000000000"+"1f307ed51e560000"), false)               // amd64 COPYINSTR
	f.Add(fzUnhex(f, "1600000000000000"+"34307ed51e560000"), false)               // amd64 COPYIN
	f.Add(fzUnhex(f, "0600000000000000"+"20e7a2bdfe7f0000"+"68656c6c6f0a"), true) // amd64 COPYOUT
	f.Add(fzUnhex(f, "00000006"+"00010000"+"68656c6c6f0a"), true)                 // mips COPYOUT
	f.Add(fzUnhex(f, "00000400"+"7fff0000"), false)                               // mips COPYIN
	f.Add(fzUnhex(f, "ffffffffffffffff"+"0000000000000000"), true)                // announces 2^64-1
	f.Add(fzUnhex(f, "0100000000000000"+"0000000000000000"), true)                // announces 1, carries 0
	f.Add([]byte{}, false)
	f.Add(make([]byte, 7), true)
	f.Fuzz(func(t *testing.T, body []byte, withData bool) {
		for _, c := range fzCodecs {
			size := c.CopydataSize()
			n, addr, data, err := c.ParseCopydata(body, withData)
			if err != nil {
				fzWantBodySizeErr(t, c, "ParseCopydata", err)
				continue
			}
			switch {
			case len(body) < size:
				t.Fatalf("%s: accepted a %d-byte copydata", c.ABI.Name, len(body))
			case !withData && (len(body) != size || data != nil):
				t.Fatalf("%s: copy request of %d bytes accepted with %d data bytes", c.ABI.Name, len(body), len(data))
			case withData && (uint64(len(data)) != n || !bytes.Equal(data, body[size:])):
				t.Fatalf("%s: COPYOUT announces %d bytes, returned %d", c.ABI.Name, n, len(data))
			}
			enc, err := c.Copydata(n, addr, data)
			if err != nil {
				t.Fatalf("%s: re-encoding a decoded copydata: %v", c.ABI.Name, err)
			}
			fzCheckPadded(t, c, netbsd.LayoutsFor(c.ABI).Copydata, body, enc)
		}
	})
}

func FuzzParseHandshakeFork(f *testing.F) {
	f.Add(fzUnhex(f, "066ad103e86aec6f41d681546b815d75"+"00000000"))
	f.Add(fzUnhex(f, "066ad103e86aec6f41d681546b815d75"+"01000000"))
	f.Add(fzUnhex(f, "066ad103e86aec6f41d681546b815d75"+"00000001"))
	f.Add(make([]byte, 16))
	f.Add(make([]byte, 24))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, c := range fzCodecs {
			ck, cancel, err := c.ParseHandshakeFork(body)
			if err != nil {
				fzWantBodySizeErr(t, c, "ParseHandshakeFork", err)
				if len(body) == 20 {
					t.Fatalf("%s: 20-byte FORK body refused: %v", c.ABI.Name, err)
				}
				continue
			}
			if len(body) != 20 || !bytes.Equal(ck[:], body[:sp.CookieSize]) {
				t.Fatalf("%s: FORK body %x decoded as cookie %x", c.ABI.Name, body, ck)
			}
			if word := c.ABI.ByteOrder().Uint32(body[16:]); cancel != (word != 0) {
				t.Fatalf("%s: cancel word %#x decoded as %v", c.ABI.Name, word, cancel)
			}
			ck2, cancel2, err := c.ParseHandshakeFork(c.HandshakeFork(ck, cancel))
			if err != nil || ck2 != ck || cancel2 != cancel {
				t.Fatalf("%s: FORK body does not round-trip: %x %v %v", c.ABI.Name, ck2, cancel2, err)
			}
		}
	})
}

// fzWordSeeds are bodies of every width a word decoder might see.
func fzWordSeeds(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0x10, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0x7f, 0x12, 0x34, 0x56, 0x78, 0x9a})
	f.Add([]byte{1, 2, 3})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
}

// fzWord checks one word decoder on every ABI: it accepts exactly
// size(c) bytes and the value re-encodes to the same bytes.
func fzWord(t *testing.T, body []byte, what string, size func(*sp.Codec) int,
	parse func(*sp.Codec, []byte) (uint64, error), encode func(*sp.Codec, uint64) ([]byte, error)) {
	for _, c := range fzCodecs {
		v, err := parse(c, body)
		if err != nil {
			fzWantBodySizeErr(t, c, what, err)
			if len(body) == size(c) {
				t.Fatalf("%s: %s of %d bytes refused: %v", c.ABI.Name, what, len(body), err)
			}
			continue
		}
		if len(body) != size(c) {
			t.Fatalf("%s: %s accepted %d bytes, size is %d", c.ABI.Name, what, len(body), size(c))
		}
		enc, err := encode(c, v)
		if err != nil || !bytes.Equal(enc, body) {
			t.Fatalf("%s: %s %x decodes to %#x, which encodes as %x (%v)", c.ABI.Name, what, body, v, enc, err)
		}
	}
}

func FuzzParseInt(f *testing.F) {
	fzWordSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fzWord(t, body, "int", func(c *sp.Codec) int { return c.ABI.Int.Size },
			func(c *sp.Codec, b []byte) (uint64, error) { v, err := c.ParseInt(b); return uint64(uint32(v)), err },
			func(c *sp.Codec, v uint64) ([]byte, error) { return c.Int(int32(uint32(v))), nil })
	})
}

func FuzzParseSize(f *testing.F) {
	fzWordSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fzWord(t, body, "size_t", func(c *sp.Codec) int { return c.ABI.SizeT.Size },
			(*sp.Codec).ParseSize, (*sp.Codec).Size)
	})
}

func FuzzParsePointer(f *testing.F) {
	fzWordSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fzWord(t, body, "pointer", func(c *sp.Codec) int { return c.ABI.Pointer.Size },
			(*sp.Codec).ParsePointer, (*sp.Codec).Pointer)
	})
}

// ---------------------------------------------------------------- banner, URL

func FuzzParseBanner(f *testing.F) {
	for _, s := range []string{
		"RUMPSP-0.4-NetBSD-7.99.34/amd64\n",
		"RUMPSP-0.1-NetBSD-5.99.48/i386\n",
		"RUMPSP-0.4-NetBSD-9.3/evbarm64 abi=aarch64eb\n",
		"RUMPSP-0.4-NetBSD-9.3/evbmips abi=mips\n",
		"RUMPSP-0.4-NetBSD-9.3/evbmips abi=\n",
		"RUMPSP-0.4-NetBSD-9.3/evbmips abi=nosuch\n",
		"RUMPSP-0.4-NetBSD-7.99.34/amd64",
		"RUMPSP-0.4-NetBSD-7.99.34/\n",
		"RUMPSP-04-NetBSD-7.99.34/amd64\n",
		"RUMPSP- 1.+2-Net-BSD-a/b/c\n",
		"RUMPSP-99999999999999999999.1-NetBSD-1/x\n",
		"RUMP\n",
		"\n",
		"",
		"RUMPSP-0.4-NetBSD-" + strings.Repeat("9", 80) + "/amd64\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		b, err := sp.ParseBanner(line)
		if err != nil {
			if !errors.Is(err, sp.ErrBadBanner) {
				t.Fatalf("ParseBanner(%q): %v does not wrap ErrBadBanner", line, err)
			}
		} else {
			if len(line) > sp.MaxBanner || strings.Contains(strings.TrimSuffix(line, "\n"), "\n") || b.Machine == "" {
				t.Fatalf("ParseBanner accepted %q", line)
			}
			s := b.Line()
			if len(s) > len(line)+1 {
				t.Fatalf("banner %q formats longer: %q", line, s)
			}
			b2, err := sp.ParseBanner(s)
			if err != nil || b2 != b {
				t.Fatalf("banner %q -> %+v -> %q -> %+v, %v", line, b, s, b2, err)
			}
			if d, err := b.ServerABI(); (d == nil) == (err == nil) {
				t.Fatalf("ServerABI of %q: %v, %v", line, d, err)
			}
		}
		// ReadBanner must agree with ParseBanner on a line that ends at
		// its first newline, and must not read past that newline.
		const after = "\x00\x01after"
		r := strings.NewReader(line + after)
		rb, rerr := sp.ReadBanner(r)
		if nl := strings.IndexByte(line, '\n'); nl >= 0 && nl == len(line)-1 && len(line) <= sp.MaxBanner {
			if (rerr == nil) != (err == nil) || rb != b {
				t.Fatalf("ReadBanner(%q) = %+v, %v; ParseBanner = %+v, %v", line, rb, rerr, b, err)
			}
			if r.Len() != len(after) {
				t.Fatalf("ReadBanner(%q) read %d bytes past the newline", line, len(after)-r.Len())
			}
		} else if nl >= 0 && nl < sp.MaxBanner && r.Len() != len(line)-nl-1+len(after) {
			t.Fatalf("ReadBanner(%q) did not stop at the newline", line)
		}
	})
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"unix:///tmp/rump.sock", "unix://rel/sock", "unix://", "unix:///a\x00b",
		"unix:///" + strings.Repeat("p", 102), "unix:///" + strings.Repeat("p", 103),
		"tcp://127.0.0.1:12345", "tcp://127.0.0.1:12345/", "tcp://*:0", "tcp://0:80", "tcp://1.2.3:4",
		"tcp://[::1]:80", "tcp://1.2.3.4:65536", "tcp://1.2.3.4:-1", "tcp://1.2.3.4:", "tcp://1.2.3.4",
		"tcp6://[::1]:80", "tcp6://[::]:0", "tcp6://*:9", "tcp6://[fe80::1%eth0]:80", "tcp6://[::ffff:1.2.3.4]:80",
		"tcp6://[::1]80", "tcp6://[::1", "tcp6://::1:80", "TCP://1.2.3.4:5", "http://x", "://", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := sp.ParseURL(s)
		if err != nil {
			var ue *sp.URLError
			if !errors.As(err, &ue) || !errors.Is(err, sp.ErrBadURL) || ue.URL != s {
				t.Fatalf("ParseURL(%q): error %T %v is not a *URLError for the input", s, err, err)
			}
			return
		}
		switch u.Scheme {
		case sp.SchemeUnix:
			if !strings.HasPrefix(u.Path, "/") || len(u.Path) > sp.MaxUnixPath || strings.ContainsRune(u.Path, 0) {
				t.Fatalf("ParseURL(%q) accepted path %q", s, u.Path)
			}
		case sp.SchemeTCP:
			if !u.Addr.Is4() {
				t.Fatalf("ParseURL(%q): tcp with address %v", s, u.Addr)
			}
		case sp.SchemeTCP6:
			if !u.Addr.Is6() || u.Addr.Is4In6() {
				t.Fatalf("ParseURL(%q): tcp6 with address %v", s, u.Addr)
			}
		default:
			t.Fatalf("ParseURL(%q): scheme %q", s, u.Scheme)
		}
		str := u.String()
		u2, err := sp.ParseURL(str)
		if err != nil || *u2 != *u {
			t.Fatalf("ParseURL(%q) = %+v; String %q parses as %+v, %v", s, *u, str, u2, err)
		}
		if u.IsWildcard() != (u.Scheme != sp.SchemeUnix && u.Addr.IsUnspecified()) {
			t.Fatalf("IsWildcard(%q) = %v", s, u.IsWildcard())
		}
	})
}

// ---------------------------------------------------------------- server

// fzServer is a server with the test kernel whose connections are
// in-process pipes; cleanup shuts it down and checks that nothing of it
// is left: no connection goroutine, no worker, no process.
type fzServer struct {
	t      *testing.T
	srv    *sp.Server
	kernel *sptest.Kernel
	abi    *abi.Descriptor
	conns  sync.WaitGroup
}

func newFzServer(t *testing.T, cfg sp.ServerConfig) *fzServer {
	base := fzSpGoroutines()
	k := sptest.NewKernel()
	srv, err := sp.NewServer(k, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fs := &fzServer{t: t, srv: srv, kernel: k, abi: cfg.ABI}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), fuzzTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		fzWait(t, "connections to end after Shutdown", fs.conns.Wait)
		if n := k.Procs(); n != 0 {
			t.Errorf("%d processes left in the kernel after Shutdown", n)
		}
		fzCheckNoLeak(t, base)
	})
	return fs
}

// pipe connects a new in-process client and returns its end.
func (fs *fzServer) pipe() net.Conn {
	cli, srvEnd := net.Pipe()
	fs.conns.Add(1)
	go func() {
		defer fs.conns.Done()
		fs.srv.ServeConn(srvEnd)
	}()
	return cli
}

// client dials a well-behaved client of the server's own ABI.
func (fs *fzServer) client() (*sp.Client, error) {
	cfg := sp.DefaultClientConfig(fs.abi)
	cfg.Memory = sptest.NewMemory(0x10000, 1<<16)
	return sp.NewClient(fs.pipe(), cfg)
}

// checkServes proves the server still works: a fresh client handshakes
// and runs getpid.
func (fs *fzServer) checkServes(what string) {
	t := fs.t
	ctx, cancel := context.WithTimeout(context.Background(), fuzzTimeout)
	defer cancel()
	c, err := fs.client()
	if err != nil {
		t.Fatalf("after %s: new client: %v", what, err)
	}
	defer c.Close()
	if err := c.HandshakeGuest(ctx); err != nil {
		t.Fatalf("after %s: handshake: %v", what, err)
	}
	r, err := c.Syscall(ctx, netbsd.SYS_getpid)
	if err != nil || r.Errno != 0 || r.Retval[0] < 2 || r.Retval[1] != 1 {
		t.Fatalf("after %s: getpid = %+v, %v", what, r, err)
	}
}

func fzWait(t *testing.T, what string, wait func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(fuzzTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

var fzSpFrame = regexp.MustCompile(`rumpsprig/sprig/sp(/sptest)?\.`)

// fzSpGoroutines counts goroutines other than the caller with a frame in
// sp or sptest.
func fzSpGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i > 0 && fzSpFrame.Match(g) {
			count++
		}
	}
	return count
}

// fzCheckNoLeak waits a little for goroutines of sp to end and
// fails if more are left than there were before.
func fzCheckNoLeak(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := fzSpGoroutines()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines of sp left (had %d):\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// guestFlags selects the server and the client's header order for
// FuzzGuestBody.
const (
	guestServerMips   = 1 << iota // server ABI mips (big-endian) instead of amd64
	guestVersion01                // server speaks 0.1
	guestIgnoreDecl               // server ignores declarations
	guestSwappedOrder             // client's header in the other byte order
)

func FuzzGuestBody(f *testing.F) {
	amd64, mips, i386 := abi.MustLookup("amd64"), abi.MustLookup("mips"), abi.MustLookup("i386")
	custom := *i386
	custom.Name, custom.Aliases, custom.Compiler = "fuzz-ilp32", nil, nil
	custom.Long = abi.Scalar{Size: 8, Align: 4}
	decl := func(name string, d *abi.Descriptor) []byte {
		return append([]byte(name+"\x00sprig-abi:"), fzDeclJSON(f, d)...)
	}
	for _, s := range []struct {
		body  []byte
		flags uint8
	}{
		{[]byte("golden\x00"), 0},
		{[]byte{}, 0},
		{[]byte("no-nul"), 0},
		{[]byte("golden\x00"), guestVersion01},
		{decl("prog", amd64), 0},
		{decl("prog", i386), 0},
		{decl("prog", mips), guestSwappedOrder},
		{decl("prog", mips), 0},                                    // declared order differs from the header's
		{decl("prog", mips), guestServerMips},                      // big-endian server, big-endian client
		{decl("prog", amd64), guestServerMips | guestSwappedOrder}, // little-endian client of a big-endian server
		{decl("prog", &custom), 0},
		{decl("prog", i386), guestIgnoreDecl},
		{decl("", mips), guestIgnoreDecl | guestSwappedOrder},
		{[]byte("golden\x00"), guestSwappedOrder},
		{[]byte("prog\x00sprig-abi:"), 0},
		{[]byte("prog\x00sprig-abi:{}"), 0},
		{[]byte("prog\x00sprig-abi:{\"name\":\"x\",\"bogus\":1}"), 0},
		{[]byte("prog\x00sprig-abi:null"), 0},
		{append(decl("prog", amd64), "trailing"...), 0},
		{[]byte("prog\x00other:thing"), 0},
	} {
		f.Add(s.body, s.flags)
	}
	f.Fuzz(func(t *testing.T, body []byte, flags uint8) {
		cfg := sp.DefaultServerConfig(amd64)
		if flags&guestServerMips != 0 {
			cfg.ABI = mips
		}
		if flags&guestVersion01 != 0 {
			cfg.Version = sp.Version01
		}
		cfg.IgnoreDeclarations = flags&guestIgnoreDecl != 0
		fs := newFzServer(t, cfg)

		hdrABI := cfg.ABI
		if flags&guestSwappedOrder != 0 {
			hdrABI = amd64
			if !cfg.ABI.BigEndian() {
				hdrABI = mips
			}
		}
		want := fzExpectGuest(body, cfg, hdrABI)

		conn := fs.pipe()
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(fuzzTimeout))
		if _, err := sp.ReadBanner(conn); err != nil {
			t.Fatalf("banner: %v", err)
		}
		fr := sp.NewFramer(conn, conn, hdrABI)
		dropped := want.abi == nil && want.errCode == 0
		// A dropped client may find the pipe closed before its body is read.
		if err := fr.WriteFrame(fzGuestHeader(1), body); err != nil && !dropped {
			t.Fatalf("sending GUEST: %v", err)
		}
		reply, err := fr.ReadFrame()
		switch {
		case dropped:
			if err == nil {
				t.Fatalf("GUEST %q: want the connection dropped, got %s", body, reply.Header)
			}
		case err != nil:
			t.Fatalf("GUEST %q: reading the reply: %v (want %+v)", body, err, want)
		case want.errCode != 0:
			if reply.Class != sp.ClassError || reply.U != want.errCode || reply.Reqno != 1 {
				t.Fatalf("GUEST %q: got %s, want ERROR %d", body, reply.Header, want.errCode)
			}
			if _, err := fr.ReadFrame(); err == nil {
				t.Fatalf("GUEST %q: connection still open after ERROR", body)
			}
		default:
			// Layouts computed here, not through netbsd.LayoutsFor, whose
			// cache would keep every declared descriptor of the run.
			if reply.Class != sp.ClassResp || reply.Type != sp.TypeHandshake || reply.Reqno != 1 ||
				!bytes.Equal(reply.Body, make([]byte, want.abi.Int.Size)) {
				t.Fatalf("GUEST %q: got %s body %x, want a handshake reply", body, reply.Header, reply.Body)
			}
			// The connection now runs with the ABI the body declared.
			if err := fr.WriteFrame(fzReq(2, sp.TypeSyscall, uint32(sptest.NullSyscall)), nil); err != nil {
				t.Fatalf("sending a syscall: %v", err)
			}
			reply, err = fr.ReadFrame()
			if err != nil {
				t.Fatalf("GUEST %q accepted, then the syscall failed: %v", body, err)
			}
			l := abi.LayoutOf(want.abi, netbsd.SysrespType)
			if reply.Class != sp.ClassResp || reply.Type != sp.TypeSyscall || reply.Reqno != 2 ||
				len(reply.Body) != l.Size || !bytes.Equal(reply.Body[:4], []byte{0, 0, 0, 0}) {
				t.Fatalf("GUEST %q (%s): syscall reply %s body %x", body, want.abi.Name, reply.Header, reply.Body)
			}
		}
		conn.Close()
		fs.checkServes("GUEST " + strings.ToValidUTF8(string(body), "?"))
	})
}

type fzGuestOutcome struct {
	abi     *abi.Descriptor // accepted, with this ABI's layouts
	errCode uint32          // refused with this ERROR code
}

// fzExpectGuest predicts the server's answer to a GUEST handshake from the
// protocol rules: a declaration (unless ignored) must parse and match the
// header's byte order; without one the header must be in the server's.
func fzExpectGuest(body []byte, cfg sp.ServerConfig, hdrABI *abi.Descriptor) fzGuestOutcome {
	sniffed := hdrABI.Endian != cfg.ABI.Endian
	if sniffed && cfg.IgnoreDeclarations {
		return fzGuestOutcome{} // the header's length is absurd; dropped
	}
	var decl []byte
	if nul := bytes.IndexByte(body, 0); nul >= 0 {
		decl, _ = bytes.CutPrefix(body[nul+1:], []byte("sprig-abi:"))
		if !bytes.HasPrefix(body[nul+1:], []byte("sprig-abi:")) {
			decl = nil
		}
	}
	if decl != nil && !cfg.IgnoreDeclarations {
		d, err := abi.Parse(decl)
		if err != nil || d.Endian != hdrABI.Endian {
			// ERROR MALFORMED_REQUEST, or its errno in 0.1.
			code := uint32(sp.ErrorMalformed)
			if !cfg.Version.HasEnumErrors() {
				code = uint32(sp.ErrorMalformed.Errno())
			}
			return fzGuestOutcome{errCode: code}
		}
		return fzGuestOutcome{abi: d}
	}
	if sniffed {
		return fzGuestOutcome{}
	}
	return fzGuestOutcome{abi: cfg.ABI}
}

// fzCookieMark in a FuzzServerConn stream is replaced by the cookie of a
// real pending fork, so FORK handshakes can claim one.
var fzCookieMark = []byte("COOKIE-COOKIE-CK")

const (
	connServerMips = 1 << iota // server ABI mips instead of amd64
	connVersion01              // server speaks 0.1
	connIgnoreDecl             // server ignores declarations
)

func FuzzServerConn(f *testing.F) {
	for _, seed := range fzServerConnSeeds(f) {
		f.Add(seed, uint8(0))
	}
	amd64, mips := abi.MustLookup("amd64"), abi.MustLookup("mips")
	f.Add(fzFrame(f, mips, fzGuestHeader(1), []byte("x\x00")), uint8(connServerMips))
	f.Add(append(fzFrame(f, amd64, fzGuestHeader(1), nil),
		fzFrame(f, amd64, fzReq(2, sp.TypeHandshake, uint32(sp.HandshakeExec)), []byte("e\x00"))...), uint8(connVersion01))
	f.Add(fzFrame(f, mips, fzGuestHeader(1), append([]byte("x\x00sprig-abi:"), fzDeclJSON(f, mips)...)), uint8(connIgnoreDecl))

	f.Fuzz(func(t *testing.T, stream []byte, flags uint8) {
		cfg := sp.DefaultServerConfig(amd64)
		if flags&connServerMips != 0 {
			cfg.ABI = mips
		}
		if flags&connVersion01 != 0 {
			cfg.Version = sp.Version01
		}
		cfg.IgnoreDeclarations = flags&connIgnoreDecl != 0
		// Small limits, so the stream can reach them cheaply.
		cfg.MaxSyscalls, cfg.IdleWorkers, cfg.MaxPendingForks = 8, 2, 4
		cfg.MaxFrame = 1 << 16
		fs := newFzServer(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), fuzzTimeout)
		defer cancel()

		// A parent with a pending fork whose cookie the stream may use.
		parent, err := fs.client()
		if err != nil {
			t.Fatal(err)
		}
		defer parent.Close()
		if err := parent.HandshakeGuest(ctx); err != nil {
			t.Fatal(err)
		}
		ck, err := parent.Prefork(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stream = bytes.ReplaceAll(stream, fzCookieMark, ck[:])

		peer := newFzPeer(fs.pipe(), cfg.ABI)
		peer.run(t, stream, cfg.MaxFrame)
		parent.Close()
		fs.checkServes("a raw stream")
	})
}

// fzMarkerReqno numbers the null syscall a fzPeer sends after its stream.
const fzMarkerReqno = 0xf0f0_f0f0_f0f0_f0f0

// fzPeer is the raw client of FuzzServerConn. It sends the fuzzed stream
// while reading everything the server sends, and answers the server's
// requests the way a client with plenty of memory would, so syscalls that
// copy data run to completion: COPYIN with the bytes asked for, COPYINSTR
// with a short path, ANONMMAP with an address.
type fzPeer struct {
	conn    net.Conn
	fr      *sp.Framer
	codec   *sp.Codec
	replies sync.WaitGroup
	// waitFor is the reqno whose answer send waits for; answered gets a
	// token when it comes.
	waitFor  atomic.Uint64
	answered chan struct{}
	read     chan struct{} // closed when the server's side is done
}

func newFzPeer(conn net.Conn, d *abi.Descriptor) *fzPeer {
	return &fzPeer{conn: conn, fr: sp.NewFramer(conn, conn, d), codec: sp.NewCodec(d),
		answered: make(chan struct{}, 1), read: make(chan struct{})}
}

// run sends stream and hangs up. Frames it can split off the front of
// the stream (in the server's byte order) go one at a time, each request
// waiting briefly for its answer, so the server sees them in order as a
// real client would send them, rather than all syscalls at once; the rest
// goes in one write, followed by a marker request whose answer says the
// server has read everything. Then it waits for its own goroutines.
func (p *fzPeer) run(t *testing.T, stream []byte, maxFrame uint64) {
	p.conn.SetDeadline(time.Now().Add(fuzzTimeout))
	if _, err := sp.ReadBanner(p.conn); err != nil {
		t.Fatalf("banner: %v", err)
	}
	go p.readLoop()
	split := sp.NewFramer(bytes.NewReader(stream), nil, p.codec.ABI)
	split.MaxFrame = maxFrame
	off := 0
	ok := true
	for ok {
		f, err := split.ReadFrame()
		if err != nil {
			break
		}
		frame := stream[off : off+int(f.Len)]
		off += int(f.Len)
		ok = p.send(frame, f.Class == sp.ClassReq, f.Reqno)
	}
	if ok && p.send(stream[off:], false, 0) {
		p.send(fzFrame(t, p.codec.ABI, fzReq(fzMarkerReqno, sp.TypeSyscall, uint32(sptest.NullSyscall)), nil),
			true, fzMarkerReqno)
	}
	p.conn.Close()
	fzWait(t, "the raw peer's reader", func() { <-p.read })
	fzWait(t, "the raw peer's replies", p.replies.Wait)
}

// send writes b and, for a request, waits a little for the answer to
// reqno. It reports false once the server has hung up.
func (p *fzPeer) send(b []byte, isReq bool, reqno uint64) bool {
	if isReq {
		p.waitFor.Store(reqno)
		select {
		case <-p.answered:
		default:
		}
	}
	if len(b) > 0 && sp.WriteRaw(p.fr, b) != nil {
		return false
	}
	if !isReq {
		return true
	}
	select {
	case <-p.answered:
	case <-p.read:
		return false
	case <-time.After(20 * time.Millisecond):
	}
	return true
}

func (p *fzPeer) readLoop() {
	defer close(p.read)
	for {
		f, err := p.fr.ReadFrame()
		if err != nil {
			// The connection may now speak another byte order (a
			// declared ABI); whatever comes is only drained.
			io.Copy(io.Discard, p.conn)
			return
		}
		if f.Class != sp.ClassReq && f.Reqno == p.waitFor.Load() {
			select {
			case p.answered <- struct{}{}:
			default:
			}
		}
		if f.Class != sp.ClassReq {
			continue
		}
		var body []byte
		switch f.Type {
		case sp.TypeCopyIn, sp.TypeCopyInStr:
			n, _, _, err := p.codec.ParseCopydata(f.Body, false)
			if err != nil {
				continue
			}
			if f.Type == sp.TypeCopyInStr {
				body = []byte("/fz\x00")[:min(n, 4)]
			} else {
				body = bytes.Repeat([]byte{'z'}, int(min(n, 1<<16)))
			}
			f.Type = sp.TypeCopyIn // the C client answers both as COPYIN
		case sp.TypeAnonMmap:
			body, _ = p.codec.Pointer(0x100000)
		default:
			continue
		}
		// Answer from another goroutine: the reader must never block, or
		// a server writing to us while we write the stream deadlocks.
		p.replies.Go(func() {
			p.fr.WriteFrame(sp.Header{Reqno: f.Reqno, Class: sp.ClassResp, Type: f.Type}, body)
		})
	}
}

// fzPreload is one PRELOAD entry: data at addr.
func fzPreload(f *testing.F, d *abi.Descriptor, addr uint64, data []byte) []byte {
	b, err := sp.NewCodec(d).Copydata(uint64(len(data)), addr, data)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// fzServerConnSeeds are conversations in the server's own byte order
// (amd64): the golden conversation, and each error path of the golden
// probe.
func fzServerConnSeeds(f *testing.F) [][]byte {
	d := abi.MustLookup("amd64")
	fb := func(h sp.Header, body []byte) []byte { return fzFrame(f, d, h, body) }
	sys := func(reqno uint64, num netbsd.Sysno, args ...uint64) []byte {
		var body []byte
		if len(args) > 0 {
			body = fzArgs(f, d, num, args...)
		}
		return fb(fzReq(reqno, sp.TypeSyscall, uint32(num)), body)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	guest := fb(fzGuestHeader(1), []byte("golden\x00"))
	resp := func(reqno uint64, t sp.Type, body []byte) []byte {
		return fb(sp.Header{Reqno: reqno, Class: sp.ClassResp, Type: t}, body)
	}
	return [][]byte{
		guest,
		cat(fzUnhex(f, fzGoldenFrames[0]), fzUnhex(f, fzGoldenFrames[1])),
		// open (COPYINSTR answered), write (COPYIN answered), lseek, read, fstat, close
		cat(guest,
			sys(2, netbsd.SYS_open, 0x1000, netbsd.O_CREAT|netbsd.O_RDWR, 0o644),
			resp(0, sp.TypeCopyIn, []byte("/golden.txt\x00")),
			sys(3, netbsd.SYS_write, 0, 0x2000, 5),
			resp(1, sp.TypeCopyIn, []byte("hello")),
			sys(4, netbsd.SYS_lseek, 0, 0, netbsd.SEEK_SET),
			sys(5, netbsd.SYS_read, 0, 0x3000, 64),
			sys(6, netbsd.SYS___fstat50, 0, 0x4000),
			sys(7, netbsd.SYS_close, 0)),
		// preloaded open and write (sprig's PRELOAD), a preload cut short,
		// and one whose SYSCALL never comes
		cat(guest,
			fb(fzReq(2, sp.TypePreload, 0), fzPreload(f, d, 0x1000, []byte("/golden.txt\x00"))),
			sys(2, netbsd.SYS_open, 0x1000, netbsd.O_CREAT|netbsd.O_RDWR, 0o644),
			fb(fzReq(3, sp.TypePreload, 0), append(fzPreload(f, d, 0x2000, []byte("hello")), fzPreload(f, d, 0x2005, []byte("!"))...)),
			sys(3, netbsd.SYS_write, 0, 0x2000, 6),
			fb(fzReq(4, sp.TypePreload, 0), fzPreload(f, d, 0x2000, []byte("hello"))[:19]),
			sys(4, netbsd.SYS_write, 0, 0x2000, 5),
			fb(fzReq(9, sp.TypePreload, 0), fzPreload(f, d, 0x2000, []byte("hello"))),
			sys(5, netbsd.SYS_close, 0)),
		// hostile counts and offsets (they crashed sptest.Kernel): a read
		// of 2^64-1 bytes, a negative seek, a write far beyond any file
		cat(guest,
			sys(2, netbsd.SYS_open, 0x1000, netbsd.O_CREAT|netbsd.O_RDWR, 0o644),
			sys(3, netbsd.SYS_write, 0, 0x2000, 5),
			sys(4, netbsd.SYS_lseek, 0, 0, netbsd.SEEK_SET),
			sys(5, netbsd.SYS_read, 0, 0x3000, ^uint64(0)),
			sys(6, netbsd.SYS_lseek, 0, ^uint64(9), netbsd.SEEK_SET),
			sys(7, netbsd.SYS_lseek, 0, ^uint64(9), netbsd.SEEK_CUR),
			sys(8, netbsd.SYS_read, 0, 0x3000, 5),
			sys(9, netbsd.SYS_lseek, 0, 1<<62, netbsd.SEEK_SET),
			sys(10, netbsd.SYS_write, 0, 0x2000, 5),
			sys(11, netbsd.SYS_read, 0, 0x3000, 5)),
		cat(guest, sys(2, netbsd.SYS_mmap, 0, 4096, 0, netbsd.MAP_ANON, ^uint64(0), 0),
			resp(0, sp.TypeAnonMmap, fzUnhex(f, "0000001000000000"))),
		cat(guest, sys(2, netbsd.SYS_kill, 3, uint64(netbsd.SIGUSR1)), sys(3, netbsd.SYS_kill, 2, 0)),
		cat(guest, sys(2, sptest.BlockSyscall, 0), sys(3, sptest.NullSyscall)),
		cat(guest, sys(2, 9999), fb(fzReq(3, sp.TypeSyscall, uint32(netbsd.SYS_getpid)), make([]byte, 8))),
		// SYSCALL before the handshake; unknown handshake kind
		fb(fzReq(1, sp.TypeSyscall, uint32(netbsd.SYS_getpid)), nil),
		fb(fzReq(1, sp.TypeHandshake, 9), []byte("x\x00")),
		// bogus COPYIN request, then getpid, then a second GUEST
		cat(guest, fb(fzReq(2, sp.TypeCopyIn, 0), make([]byte, 16)), sys(3, netbsd.SYS_getpid),
			fb(fzGuestHeader(4), []byte("again\x00"))),
		// unknown class and type, error frames from the client
		cat(guest, fb(sp.Header{Reqno: 2, Class: 7, Type: 1}, nil), fb(fzReq(3, 77, 0), nil),
			fb(sp.Header{Reqno: 4, Class: sp.ClassError, U: 7}, nil)),
		// prefork, exec twice, syscall during exec
		cat(guest, fb(fzReq(2, sp.TypePrefork, 0), nil),
			fb(fzReq(3, sp.TypeHandshake, uint32(sp.HandshakeExec)), []byte("newprog\x00")),
			fb(fzReq(4, sp.TypeHandshake, uint32(sp.HandshakeExec)), []byte("again\x00")),
			sys(5, netbsd.SYS_getpid)),
		// claim the parent's fork; claim it again; a malformed FORK body
		cat(fb(fzReq(1, sp.TypeHandshake, uint32(sp.HandshakeFork)), append(append([]byte{}, fzCookieMark...), 0, 0, 0, 0)),
			sys(2, netbsd.SYS_getpid)),
		fb(fzReq(1, sp.TypeHandshake, uint32(sp.HandshakeFork)), append(append([]byte{}, fzCookieMark...), 1, 0, 0, 0)),
		fb(fzReq(1, sp.TypeHandshake, uint32(sp.HandshakeFork)), make([]byte, 16)),
		// frames the framer refuses
		fzUnhex(f, "ffffffffffffffff0100000000000000000001001400000000"),
		fzUnhex(f, "0500000000000000010000000000000000000100140000"),
		// a GUEST whose header is in the other byte order, with and without declaration
		fzFrame(f, abi.MustLookup("mips"), fzGuestHeader(1), []byte("x\x00")),
		fzFrame(f, abi.MustLookup("mips"), fzGuestHeader(1),
			append([]byte("x\x00sprig-abi:"), fzDeclJSON(f, abi.MustLookup("mips"))...)),
	}
}
