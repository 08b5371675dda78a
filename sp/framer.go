package sp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/internal/bufpool"
	"github.com/rumpsprig/sprig/internal/rawsock"
)

// DefaultMaxFrame is the largest frame a Framer accepts unless configured
// otherwise: room for a 16 MiB copy plus its header and copydata.
const DefaultMaxFrame = 16<<20 + 64

// ReadBufferSize is the read buffer Clients and server connections put
// between the socket and their Framer, so that a header and the body
// behind it (a 48-byte syscall reply, say) arrive in one read(2) rather
// than two. Bodies larger than the buffer are read straight into place.
const ReadBufferSize = 4096

// Sentinel errors for frames that break the protocol. They arrive wrapped
// in a *ProtocolError carrying the details; match them with errors.Is.
var (
	// ErrFrameTooLarge: the header announces more than the limit.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrFrameTooShort: the header announces less than a header.
	ErrFrameTooShort = errors.New("frame shorter than its header")
	// ErrBodySize: the body is too short or too long for its type.
	ErrBodySize = errors.New("body size wrong for frame type")
	// ErrMalformed: a body whose contents make no sense.
	ErrMalformed = errors.New("malformed frame")
)

// ProtocolError describes a frame that violates the protocol.
type ProtocolError struct {
	Header Header
	Err    error  // one of the sentinels above
	Detail string // what exactly was wrong
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("%s: %v: %s", e.Header, e.Err, e.Detail)
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// orderBox is a Framer's byte order, and whether it is little-endian,
// worked out once rather than per header.
type orderBox struct {
	o  abi.ByteOrder
	le bool
}

// Frame is one decoded frame: header plus raw body. Bodies are decoded by
// a Codec for the ABI the peer uses.
type Frame struct {
	Header
	Body []byte
}

// Direction tells a trace hook which way a frame went.
type Direction uint8

// Directions, seen from the side that owns the Framer.
const (
	Received Direction = iota
	Sent
)

func (d Direction) String() string {
	if d == Sent {
		return "sent"
	}
	return "received"
}

// Framer reads and writes frames on one connection. Reads must come from
// one goroutine; writes may come from many, and each frame goes out in a
// single Write so a peer never sees a split header.
type Framer struct {
	r  io.Reader
	br *bufio.Reader // r, when it is one: a frame already buffered is read without copying twice
	w  io.Writer

	order atomic.Pointer[orderBox] // changes at most once, on a sniffed handshake

	// MaxFrame bounds the length a peer may announce; larger frames fail
	// with ErrFrameTooLarge before anything is allocated.
	MaxFrame uint64
	// Trace, when set, sees every frame read or written. A frame
	// WriteFrame sends is traced with the write lock held, just before
	// it goes out: the hook must not write on this Framer.
	Trace func(Direction, *Frame)
	// WriteTimeout, when positive and the writer has SetWriteDeadline (a
	// net.Conn), bounds each frame's Write: a peer that stops reading
	// makes WriteFrame fail after it instead of blocking for ever.
	WriteTimeout time.Duration

	wmu  sync.Mutex
	wbuf []byte // under wmu: the frame being written, kept for the next
	rbuf [HeaderSize]byte
	// The writer's descriptor (nil: none), which every write tries first
	// (see write), and its write deadline (under wmu).
	wnow *rawsock.Conn
	wd   interface{ SetWriteDeadline(time.Time) error }
	// The socket for a large body's gathered write (nil: none), and the
	// parts of that write (under wmu).
	wv    net.Conn
	parts net.Buffers
	room  [2][]byte // parts' backing: the header and the data
	// Small frames ReadBody made: the last one, and one its reader gave
	// back (reuse) for the next to be made in.
	lastSmall, spare atomic.Pointer[frameSmall]
	// poolLarge: the reader gives back every frame it is done with, so a
	// body too large to keep room for may come from largeBodies.
	poolLarge bool
}

// NewFramer returns a Framer speaking the byte order of d on rw.
func NewFramer(r io.Reader, w io.Writer, d *abi.Descriptor) *Framer {
	f := &Framer{r: r, w: w, MaxFrame: DefaultMaxFrame}
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= HeaderSize {
		f.br = br // (a smaller one cannot hold a header to peek at)
	}
	f.SetByteOrder(d.ByteOrder())
	f.wd, _ = w.(interface{ SetWriteDeadline(time.Time) error })
	// Only a bare socket is written around (through its descriptor, or
	// gathered): a type that merely embeds one may do more in Write
	// (count, capture, throttle), and must see every frame.
	if c, ok := w.(net.Conn); ok {
		if f.wnow = rawsock.New(c); f.wnow != nil {
			f.wv = c
		}
	}
	return f
}

// SetByteOrder changes the order used from the next frame on.
func (f *Framer) SetByteOrder(o abi.ByteOrder) {
	f.order.Store(&orderBox{o: o, le: littleEndian(o)})
}

// ByteOrder returns the order in use.
func (f *Framer) ByteOrder() abi.ByteOrder {
	return f.order.Load().o
}

// ReadHeader reads the next header without its body, for callers that
// must look at it before deciding how to read the rest (byte-order
// sniffing). Most callers want ReadFrame.
func (f *Framer) ReadHeader() ([HeaderSize]byte, error) {
	// rbuf lives in the Framer so the read does not allocate: reads come
	// from one goroutine.
	_, err := io.ReadFull(f.r, f.rbuf[:])
	return f.rbuf, err
}

// ReadFrame reads one whole frame.
func (f *Framer) ReadFrame() (*Frame, error) {
	if f.br != nil {
		return f.readBuffered()
	}
	raw, err := f.ReadHeader()
	if err != nil {
		return nil, err
	}
	return f.ReadBody(raw)
}

// readBuffered is ReadFrame from a bufio.Reader: the header is looked at
// where it lies, and a body the buffer holds already is copied out of
// it once. It fails as ReadFrame through io.ReadFull does: io.EOF
// before the first byte of a frame, io.ErrUnexpectedEOF inside one, and
// any other error as it came, having consumed what arrived. Reading a
// reply this way takes a few calls where io.ReadFull took a dozen, which
// counts in Go compiled to wasm.
func (f *Framer) readBuffered() (*Frame, error) {
	p, err := f.br.Peek(HeaderSize)
	if err != nil {
		f.br.Discard(len(p))
		return nil, cutShort(err, len(p))
	}
	return f.frameAt(p)
}

// cutShort is the error of a read of a header that got only got bytes
// of it: io.EOF inside one is io.ErrUnexpectedEOF, as io.ReadFull has it.
func cutShort(err error, got int) error {
	if got > 0 && err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// frameAt reads the frame whose header p is, as peeked from f.br.
func (f *Framer) frameAt(p []byte) (*Frame, error) {
	h := decodeHeader(f.order.Load().le, p)
	f.br.Discard(HeaderSize)
	if err := f.checkLen(h); err != nil {
		return nil, err
	}
	return f.readFrameBody(h)
}

// ReadBody parses a header read by ReadHeader in the current byte order,
// checks its length and reads the body.
func (f *Framer) ReadBody(raw [HeaderSize]byte) (*Frame, error) {
	h, err := f.ParseHeader(raw)
	if err != nil {
		return nil, err
	}
	return f.readFrameBody(h)
}

// readFrameBody reads the body of h, whose header has been read and
// checked, into a new frame and traces it.
func (f *Framer) readFrameBody(h Header) (*Frame, error) {
	fr := f.newFrame(h)
	if err := f.readFull(fr.Body); err != nil {
		return nil, bodyError(h, err)
	}
	if f.Trace != nil {
		f.Trace(Received, fr)
	}
	return fr, nil
}

// readFull is io.ReadFull from the Framer's reader. From a bufio.Reader
// a body that came with its header is copied out by one Read, which
// copies what the buffer holds without reading more.
func (f *Framer) readFull(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if f.br == nil {
		_, err := io.ReadFull(f.r, b)
		return err
	}
	n, err := f.br.Read(b)
	switch {
	case n == len(b):
		return nil // io.ReadFull, too, drops an error that came with the last byte
	case err != nil:
		return err
	}
	_, err = io.ReadFull(f.br, b[n:])
	return err
}

// bodyError is the error of reading the body of h that failed with err:
// a stream that ended inside it ended unexpectedly.
func bodyError(h Header, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading %d-byte body of %s: %w", h.BodyLen(), h, err)
}

// smallBody is the largest body a frameSmall carries in its own
// allocation: a syscall's reply and most requests' arguments.
const smallBody = 64

// maxReusedBody is the largest body a frame given back keeps room for:
// the COPYOUT of a read of up to 64 KiB is read without allocating. A
// client so keeps at most that much besides its write buffer.
const maxReusedBody = 64<<10 + 64

// frameSmall is a Frame with room for a small body, so that reading one
// costs one allocation, not two. A frame the Framer reuses also keeps
// the room a larger body needed (up to maxReusedBody) for the next.
type frameSmall struct {
	f      Frame
	buf    [smallBody]byte
	room   []byte
	pooled []byte // the largeBodies buffer f.Body lies in, if any
}

// init makes fs the frame of h with a body of n bytes, unread: in buf
// when it fits, else in room when that is large enough.
func (fs *frameSmall) init(h Header, n uint64) *Frame {
	fs.f = Frame{Header: h}
	switch {
	case n == 0:
	case n <= smallBody:
		fs.f.Body = fs.buf[:n:n]
	case n <= uint64(cap(fs.room)):
		fs.f.Body = fs.room[:n:n]
	default:
		fs.f.Body = make([]byte, n)
		if n <= maxReusedBody {
			fs.room = fs.f.Body
		}
	}
	return &fs.f
}

// newFrame returns a Frame for h with its Body allocated, unread: in the
// frame given back last, if any, when the body is not too large, and
// for a larger one (a COPYOUT of more than 64 KiB) in a pooled buffer
// when the reader gives its frames back (poolLarge).
func (f *Framer) newFrame(h Header) *Frame {
	n := h.BodyLen()
	pooled := n > maxReusedBody && n <= uint64(largeBodies.Size()) && f.poolLarge && f.Trace == nil
	if n > maxReusedBody && !pooled {
		f.lastSmall.Store(nil)
		return &Frame{Header: h, Body: make([]byte, n)} // not worth keeping
	}
	fs := f.spare.Swap(nil)
	if fs == nil {
		fs = new(frameSmall)
	}
	f.lastSmall.Store(fs)
	if pooled {
		fs.pooled = largeBodies.Get()
		fs.f = Frame{Header: h, Body: fs.pooled[:n:n]}
		return &fs.f
	}
	return fs.init(h, n)
}

// largeBodies are the buffers of frames too large for a reused frame's
// room, for the COPYOUT of a read of up to 1 MiB (kern's MaxIO by
// default) and its rsp_copydata: a fresh body for each would be garbage
// for the collector at once. The clients of a process share them.
var largeBodies = bufpool.New(1<<20+64, 4)

// reuse takes back fr, the last frame ReadBody returned, once its reader
// is done with it and nothing else holds it: the next frame is made in
// it, and a pooled body goes back to its pool. A client so reads its
// replies, and the requests it serves, without allocating. A frame a
// Trace hook has seen may be kept by the hook, so it is never reused;
// any other frame is ignored.
func (f *Framer) reuse(fr *Frame) {
	if fs := f.lastSmall.Load(); fs != nil && &fs.f == fr && f.Trace == nil {
		if fs.pooled != nil {
			largeBodies.Put(fs.pooled)
			fs.f.Body, fs.pooled = nil, nil
		}
		f.spare.Store(fs)
	}
}

// ParseHeader parses a header read by ReadHeader in the current byte
// order and checks its length against MaxFrame, leaving the body unread:
// a caller that must bound what it keeps of a body (a server) reads it
// with ReadBodyPart and Discard instead of ReadBody.
func (f *Framer) ParseHeader(raw [HeaderSize]byte) (Header, error) {
	h := decodeHeader(f.order.Load().le, raw[:])
	return h, f.checkLen(h)
}

// ReadBodyPart reads exactly len(buf) bytes of the body of h into buf.
func (f *Framer) ReadBodyPart(h Header, buf []byte) error {
	if err := f.readFull(buf); err != nil {
		return bodyError(h, err)
	}
	return nil
}

// Discard reads and drops n bytes of the body of h without keeping them.
func (f *Framer) Discard(h Header, n uint64) error {
	if n == 0 {
		return nil
	}
	if _, err := io.CopyN(io.Discard, f.r, int64(n)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("discarding %d bytes of the body of %s: %w", n, h, err)
	}
	return nil
}

// copyBody streams the whole body of h into w, which keeps what it
// wants of it.
func (f *Framer) copyBody(h Header, w io.Writer) error {
	if _, err := io.CopyN(w, f.r, int64(h.BodyLen())); err != nil {
		return bodyError(h, err)
	}
	return nil
}

// traceReceived hands a frame read in parts to the trace hook.
func (f *Framer) traceReceived(fr *Frame) {
	if f.Trace != nil {
		f.Trace(Received, fr)
	}
}

func (f *Framer) checkLen(h Header) error {
	switch {
	case h.Len < HeaderSize:
		return &ProtocolError{Header: h, Err: ErrFrameTooShort, Detail: fmt.Sprintf("length %d < %d", h.Len, HeaderSize)}
	case h.Len > f.MaxFrame:
		return &ProtocolError{Header: h, Err: ErrFrameTooLarge, Detail: fmt.Sprintf("length %d > limit %d", h.Len, f.MaxFrame)}
	}
	return nil
}

// WriteFrame sends header h (its Len is computed here) and body in one
// Write.
func (f *Framer) WriteFrame(h Header, body ...[]byte) error {
	switch len(body) {
	case 0:
		return f.writeOne(h, nil)
	case 1:
		return f.writeOne(h, body[0])
	}
	return f.writeFrameAfter(nil, h, body...)
}

// writeOne is WriteFrame for a body in one piece, as most frames are,
// straight into the write buffer: a request costs a few calls, not the
// dozen of the general path, which counts in Go compiled to wasm.
func (f *Framer) writeOne(h Header, body []byte) error {
	h.Len = uint64(HeaderSize + len(body))
	if err := f.refuseTooLarge(h); err != nil {
		return err
	}
	f.wmu.Lock()
	defer f.wmu.Unlock() // a Trace hook or writer may panic
	buf := slices.Grow(f.wbuf[:0], int(h.Len))[:h.Len]
	h.encode(f.order.Load().le, buf)
	copy(buf[HeaderSize:], body)
	f.traceSent(h, body)
	return f.writeKept(buf)
}

// writeAfterFrame sends the frame encoded in first (room for its header,
// then its body; the header is written here, with fh's Len computed),
// then header h and body, in one write from first's own buffer, which a
// large first is not copied out of. first is the caller's again once it
// returns.
func (f *Framer) writeAfterFrame(first []byte, fh Header, h Header, body []byte) error {
	fh.Len = uint64(len(first))
	if err := f.refuseTooLarge(fh); err != nil {
		return err
	}
	fh.encode(f.order.Load().le, first[:HeaderSize]) // before first may move
	buf, h, err := f.appendHeader(first, h, [][]byte{body})
	if err != nil {
		return err
	}
	buf = append(buf, body...)
	f.wmu.Lock()
	defer f.wmu.Unlock() // a Trace hook or writer may panic
	f.traceSent(fh, first[HeaderSize:])
	f.traceSent(h, body)
	return f.write(buf)
}

// refuseTooLarge refuses to send a frame of h.Len bytes past MaxFrame.
func (f *Framer) refuseTooLarge(h Header) error {
	if h.Len > f.MaxFrame {
		return &ProtocolError{Header: h, Err: ErrFrameTooLarge, Detail: fmt.Sprintf("refusing to send %d bytes (limit %d)", h.Len, f.MaxFrame)}
	}
	return nil
}

// writeKept writes buf, assembled in the Framer's write buffer, and
// keeps the buffer for the next frame unless it grew past maxKeptWrite
// (large COPYOUTs are left to the collector); f.wmu is held.
func (f *Framer) writeKept(buf []byte) error {
	if len(buf) <= maxKeptWrite {
		f.wbuf = buf
	}
	return f.write(buf)
}

// appendFrame encodes header h and body onto dst, as WriteFrame would
// send them, and traces the frame as sent: it is the caller's to write
// (writeFrameAfter) before anything that must follow it.
func (f *Framer) appendFrame(dst []byte, h Header, body ...[]byte) ([]byte, error) {
	dst, h, err := f.appendHeader(dst, h, body)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	for _, b := range body {
		dst = append(dst, b...)
	}
	f.traceSent(h, dst[start:])
	return dst, nil
}

// appendHeader encodes header h of a frame carrying body onto dst.
func (f *Framer) appendHeader(dst []byte, h Header, body [][]byte) ([]byte, Header, error) {
	n := HeaderSize
	for _, b := range body {
		n += len(b)
	}
	h.Len = uint64(n)
	if err := f.refuseTooLarge(h); err != nil {
		return dst, h, err
	}
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	h.encode(f.order.Load().le, dst[start:])
	return dst, h, nil
}

// traceSent shows the Trace hook a frame about to go out, whose body is
// the concatenation of parts.
func (f *Framer) traceSent(h Header, parts ...[]byte) {
	if f.Trace == nil {
		return
	}
	// The hook may keep the frame; give it its own copy.
	var body []byte
	for _, p := range parts {
		body = append(body, p...)
	}
	f.Trace(Sent, &Frame{Header: h, Body: body})
}

// writeFrameAfter sends the frames already encoded in before (by
// appendFrame), then header h and body, in one Write. The frame is
// assembled in the Framer's own buffer under the write lock, which
// writes hold anyway.
func (f *Framer) writeFrameAfter(before []byte, h Header, body ...[]byte) error {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	buf, err := f.appendFrame(append(f.wbuf[:0], before...), h, body...)
	if err != nil {
		return err
	}
	return f.writeKept(buf)
}

// writeFrameData is writeFrameAfter for a body of a small head (copied
// behind the header) and data. Large data on a socket is not copied but
// written from where it lies, in the same writev as the header. Only
// data is stored outside the call (in parts, for the length of the
// write), so that a head on the caller's stack can stay there.
func (f *Framer) writeFrameData(before []byte, h Header, head, data []byte) error {
	if f.wv == nil || len(data) < gatherMin {
		return f.writeFrameAfter(before, h, head, data)
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	buf, h, err := f.appendHeader(append(f.wbuf[:0], before...), h, [][]byte{head, data})
	if err != nil {
		return err
	}
	buf = append(buf, head...)
	f.wbuf = buf
	f.traceSent(h, head, data)
	// Such a write rarely fits the socket at once: it waits under a
	// WriteTimeout deadline, as any write that must wait does.
	if f.WriteTimeout > 0 && f.wd != nil {
		f.wd.SetWriteDeadline(time.Now().Add(f.WriteTimeout))
	}
	f.room = [2][]byte{buf, data}
	f.parts = f.room[:]
	_, err = f.parts.WriteTo(f.wv) // one writev, looped until all is out
	f.room = [2][]byte{}           // keep no reference to data
	return err
}

// gatherMin is the data size from which writeFrameData writes data in a
// writev of its own: copying it behind its header costs more than the
// extra iovec (and, past maxKeptWrite, an allocation a frame).
const gatherMin = 16 << 10

// write sends b, waiting at most WriteTimeout for the peer to make room.
// Most frames fit in the socket's buffer at once: on a bare socket those
// are written through its descriptor (package rawsock: no system-call
// bookkeeping) and without a deadline, which would cost a timer change
// per frame; only a frame that must wait for room gets one.
func (f *Framer) write(b []byte) error {
	if f.wnow != nil {
		n, err := f.wnow.WriteNow(b)
		switch {
		case n == len(b):
			return nil
		case err != nil && !errors.Is(err, rawsock.ErrWouldBlock) && !errors.Is(err, os.ErrDeadlineExceeded):
			// (A deadline met here is an earlier write's, which waited.)
			return err
		}
		b = b[n:]
	}
	if f.WriteTimeout > 0 && f.wd != nil {
		f.wd.SetWriteDeadline(time.Now().Add(f.WriteTimeout))
	}
	_, err := f.w.Write(b)
	return err
}

// maxKeptWrite is the largest write a Framer keeps its buffer for, for
// the next frame: a frame carrying 64 KiB of data (a COPYIN answer or a
// COPYOUT of a 64 KiB read), its header and the COPYOUTs held before it,
// so that a connection without gathered writes (the guest's) does not
// allocate one such buffer a frame. (The buffer append grew for it may
// be a page or so larger.)
const maxKeptWrite = 68 << 10

// writeRaw sends bytes exactly as given, for tests that must produce what
// a well-behaved peer never would.
func (f *Framer) writeRaw(b []byte) error {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	_, err := f.w.Write(b)
	return err
}
