package sp

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Rate of a connection's repeated log messages: each message (by its
// text) may be logged logBurst times at once and then once per
// logRefill; what is dropped in between is counted and reported with the
// next line of that message, and at disconnect. A client that sends junk
// as fast as it can therefore costs a few lines a second, not five bytes
// of log per byte received.
const (
	logBurst  = 8
	logRefill = time.Second
)

// logLimiter is a per-connection slog front end that rate-limits each
// message separately. golang.org/x/time/rate would give the token bucket
// but not the per-message keys and the counts of what was suppressed,
// which are most of this type, so it is written out here.
type logLimiter struct {
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	msgs map[string]*logBucket
}

type logBucket struct {
	level      slog.Level
	tokens     float64
	last       time.Time
	suppressed int
}

func newLogLimiter(log *slog.Logger) *logLimiter {
	return &logLimiter{log: log, now: time.Now, msgs: map[string]*logBucket{}}
}

func (l *logLimiter) Warn(msg string, args ...any) { l.emit(slog.LevelWarn, msg, args) }
func (l *logLimiter) Info(msg string, args ...any) { l.emit(slog.LevelInfo, msg, args) }

func (l *logLimiter) emit(level slog.Level, msg string, args []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	now := l.now()
	l.mu.Lock()
	b := l.msgs[msg]
	if b == nil {
		b = &logBucket{level: level, tokens: logBurst, last: now}
		l.msgs[msg] = b
	}
	b.tokens = min(logBurst, b.tokens+float64(now.Sub(b.last))/float64(logRefill))
	b.last = now
	if b.tokens < 1 {
		b.suppressed++
		l.mu.Unlock()
		return
	}
	b.tokens--
	n := b.suppressed
	b.suppressed = 0
	l.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	l.log.Log(context.Background(), level, msg, args...)
}

// flush reports every message whose last repeats were suppressed.
func (l *logLimiter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for msg, b := range l.msgs {
		if b.suppressed > 0 {
			l.log.Log(context.Background(), b.level, "repeated messages suppressed", "msg", msg, "count", b.suppressed)
			b.suppressed = 0
		}
	}
}
