//go:build unix

package rawsock

import "sync/atomic"

// For the external tests: a Conn's polling state, and the process's count
// of polling Reads.

func (s *Conn) SpinBackoff() int     { return s.spinBackoff }
func (s *Conn) SpinSkip() int        { return s.spinSkip }
func (s *Conn) SetSpinBackoff(n int) { s.spinBackoff = n }
func Spinners() *atomic.Int32        { return &spinners }

// ForgetOtherConns makes the process look as if s were the only Conn that
// ever read data.
func (s *Conn) ForgetOtherConns() {
	lastRead.Store(s.id)
	mixedUntil.Store(0)
}
