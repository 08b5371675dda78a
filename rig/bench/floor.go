package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/sp"
)

// The floor under every sysproxy exchange: the same bytes between two
// processes over a unix socket, with nothing but blocking read(2) and
// write(2) on either side, as in a C ping-pong (rawSocket), or for Go's
// floor with both ends using net.Conn. A Script is an exchange's
// bytes as turns; the peer process (this program re-executed as
// RolePeer) answers each turn's bytes with the next.

// Turn is one round of an exchange: the client sends In bytes (all the
// frames it sends before it waits), the server answers Out bytes (all the
// frames it sends before the client's next one).
type Turn struct {
	In  int `json:"in"`
	Out int `json:"out"`
}

// Script is one iteration of an operation as it crossed the wire.
type Script []Turn

// Bytes returns the bytes each way.
func (s Script) Bytes() (in, out int) {
	for _, t := range s {
		in += t.In
		out += t.Out
	}
	return in, out
}

// String is "24/48" for one turn, "56/40+88/48" for two.
func (s Script) String() string {
	var b []byte
	for i, t := range s {
		if i > 0 {
			b = append(b, '+')
		}
		b = fmt.Appendf(b, "%d/%d", t.In, t.Out)
	}
	return string(b)
}

// maxScript bounds what a peer accepts.
const (
	maxTurns    = 1024
	maxTurnSize = 32 << 20
)

// recorder builds a Script from a client's trace: frames it sent, frames
// it received, each direction's consecutive frames one turn's half.
type recorder struct {
	mu     sync.Mutex
	on     bool
	turns  Script
	inSend bool
}

func (r *recorder) trace(d sp.Direction, f *sp.Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	n := sp.HeaderSize + len(f.Body)
	switch {
	case d == sp.Sent && (len(r.turns) == 0 || !r.inSend):
		r.turns = append(r.turns, Turn{In: n})
		r.inSend = true
	case d == sp.Sent:
		r.turns[len(r.turns)-1].In += n
	case len(r.turns) > 0:
		r.turns[len(r.turns)-1].Out += n
		r.inSend = false
	}
}

func (r *recorder) start() {
	r.mu.Lock()
	r.on, r.turns, r.inSend = true, nil, false
	r.mu.Unlock()
}

func (r *recorder) stop() Script {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.turns
}

// Every floor connection starts with one of these: with scriptMagicRaw
// both ends block in read(2) and write(2), as a C ping-pong (an
// operation's floor); with scriptMagic both go through Go's netpoller,
// which serves many connections at once as a Go server does (the floor
// of many clients: on one CPU, blocking reads would take turns behind
// Go's scheduler instead).
const (
	scriptMagic    = 0x73707266 // "sprf"
	scriptMagicRaw = 0x73707272 // "sprr"
)

// RunPeer is the floor's second process: it serves the listener it
// inherited as file descriptor 3 until its standard input ends (the bench
// holds the other end, so the peer never outlives it). Each connection
// first sends its script; the peer then reads each turn's In bytes and
// answers Out bytes, over and over, until the connection closes. It
// returns the process's exit code.
func RunPeer() int {
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "sprig bench peer:", err)
		return 1
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return 0
		}
		go servePeer(c)
	}
}

func servePeer(c net.Conn) {
	defer c.Close()
	// The header is read exactly, before any buffering: it says how the
	// rest is to be read.
	n, raw, err := readScriptHeader(c)
	if err != nil {
		return
	}
	if raw {
		rc, err := rawSocket(c)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sprig bench peer:", err)
			return
		}
		defer rc.Close()
		c = rc
	}
	br := bufio.NewReader(c)
	s, err := readTurns(br, n)
	if err != nil {
		return
	}
	in, out := 0, 0
	for _, t := range s {
		in, out = max(in, t.In), max(out, t.Out)
	}
	inBuf, outBuf := make([]byte, in), make([]byte, out)
	for {
		for _, t := range s {
			if _, err := io.ReadFull(br, inBuf[:t.In]); err != nil {
				return
			}
			if t.Out > 0 {
				if _, err := c.Write(outBuf[:t.Out]); err != nil {
					return
				}
			}
		}
	}
}

func readScript(r io.Reader) (Script, error) {
	n, _, err := readScriptHeader(r)
	if err != nil {
		return nil, err
	}
	return readTurns(r, n)
}

// readScriptHeader reads a script's magic and turn count.
func readScriptHeader(r io.Reader) (n uint32, raw bool, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, false, err
	}
	switch binary.LittleEndian.Uint32(hdr[:]) {
	case scriptMagic:
	case scriptMagicRaw:
		raw = true
	default:
		return 0, false, errors.New("bench: not a floor script")
	}
	n = binary.LittleEndian.Uint32(hdr[4:])
	if n == 0 || n > maxTurns {
		return 0, false, fmt.Errorf("bench: script of %d turns", n)
	}
	return n, raw, nil
}

// readTurns reads a script's n turns.
func readTurns(r io.Reader, n uint32) (Script, error) {
	b := make([]byte, 8*n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	s := make(Script, n)
	for i := range s {
		s[i] = Turn{In: int(binary.LittleEndian.Uint32(b[8*i:])), Out: int(binary.LittleEndian.Uint32(b[8*i+4:]))}
		if s[i].In <= 0 || s[i].In > maxTurnSize || s[i].Out < 0 || s[i].Out > maxTurnSize {
			return nil, fmt.Errorf("bench: turn %d of %d/%d bytes", i, s[i].In, s[i].Out)
		}
	}
	return s, nil
}

func encodeScript(s Script, raw bool) []byte {
	magic := uint32(scriptMagic)
	if raw {
		magic = scriptMagicRaw
	}
	b := binary.LittleEndian.AppendUint32(nil, magic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	for _, t := range s {
		b = binary.LittleEndian.AppendUint32(b, uint32(t.In))
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Out))
	}
	return b
}

// floorConn is a client's end of one floor connection.
type floorConn struct {
	c   net.Conn
	s   Script
	in  []byte
	out []byte
}

// dialFloor connects to the peer for script s, both ends blocking in the
// kernel when raw (see scriptMagicRaw).
func dialFloor(path string, s Script, raw bool) (*floorConn, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("bench: floor: %w", err)
	}
	if raw {
		rc, err := rawSocket(c)
		if err != nil {
			c.Close()
			return nil, err
		}
		c = rc
	}
	if _, err := c.Write(encodeScript(s, raw)); err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: floor: %w", err)
	}
	in, out := 0, 0
	for _, t := range s {
		in, out = max(in, t.In), max(out, t.Out)
	}
	return &floorConn{c: c, s: s, in: make([]byte, in), out: make([]byte, out)}, nil
}

// iteration runs the script once: one write per turn, then a read of
// exactly the turn's answer.
func (f *floorConn) iteration() error {
	for _, t := range f.s {
		if _, err := f.c.Write(f.in[:t.In]); err != nil {
			return fmt.Errorf("bench: floor: %w", err)
		}
		if _, err := io.ReadFull(f.c, f.out[:t.Out]); err != nil {
			return fmt.Errorf("bench: floor: %w", err)
		}
	}
	return nil
}

// run times n iterations.
func (f *floorConn) run(n int) (time.Duration, error) {
	start := time.Now()
	for range n {
		if err := f.iteration(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func (f *floorConn) Close() error { return f.c.Close() }
