//go:build unix

package rawsock

import (
	"sync/atomic"
	"time"
)

// For the external tests: a Conn's polling state, and the process's count
// of polling and of sleeping Reads.

func (s *Conn) SpinBackoff() int     { return s.spinBackoff }
func (s *Conn) SpinSkip() int        { return s.spinSkip }
func (s *Conn) SetSpinBackoff(n int) { s.spinBackoff = n }
func (s *Conn) SetSpinSkip(n int)    { s.spinSkip = n }
func Spinners() *atomic.Int32        { return &spinners }
func Sleepers() *atomic.Int32        { return &sleepers }

// ActiveAgo records that s last had data d ago, as if its reads had
// found none since.
func (s *Conn) ActiveAgo(d time.Duration) { s.active(clock() - int64(d)) }

// ForgetActivity clears the record of which Conn last had data, so that
// a test's Conns see none of earlier tests'.
func ForgetActivity() { lastID.Store(0); lastAt.Store(0); otherAt.Store(0) }

// SetSpinUnbounded is SetSpin without MaxSpin, for tests whose polls must
// end by data or a deadline, however late that comes on a busy machine.
func (s *Conn) SetSpinUnbounded(d time.Duration) { s.spin.Store(int64(d)) }
