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
func Spinners() *atomic.Int32        { return &spinners }
func Sleepers() *atomic.Int32        { return &sleepers }

// Woke records a netpoller wakeup of s at t, as its Read does.
func (s *Conn) Woke(t time.Time) { s.woke(t) }
