package sp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// ErrAddrInUse is wrapped by the error Listen returns when the address is
// taken: a live server already listens on the unix socket, something other
// than a socket sits at the path, or the port is bound.
var ErrAddrInUse = errors.New("address already in use")

// unixSocketMode is the permission of every unix socket a sprig server
// creates: only the owner may connect.
const unixSocketMode fs.FileMode = 0o600

// staleProbeTimeout bounds the connect used to find out whether an existing
// socket file still has a server behind it.
const staleProbeTimeout = 2 * time.Second

// Listen opens a server endpoint for u.
//
// For unix:// the socket file is created with mode 0600, independent of
// the process umask (see listenUnix for how and on which systems this is
// free of races). If a socket file is already at the path, Listen connects
// to it: a refused connection means it was left behind by a dead server,
// and the file is replaced; a successful connection means a server is alive
// there, and Listen fails with an error wrapping ErrAddrInUse. Anything
// other than a socket at the path is never removed. Closing the returned
// listener removes the socket file, provided it is still the one this
// listener created.
//
// For tcp:// and tcp6:// the wildcard address is allowed, and port 0 picks
// a free port (see the listener's Addr). tcp6 listeners are IPv6 only.
// Accepted TCP connections should be passed to tuneConn.
func (u *URL) Listen(ctx context.Context) (net.Listener, error) {
	if err := u.validate(true); err != nil {
		return nil, err
	}
	if u.Scheme == SchemeUnix {
		return listenUnix(ctx, u)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, u.netNetwork(), u.hostPort())
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("sp: listen %s: %w (%w)", u, ErrAddrInUse, err)
		}
		return nil, fmt.Errorf("sp: listen %s: %w", u, err)
	}
	return l, nil
}

// Dial connects to the server at u as a client. Wildcard addresses and port
// 0 are rejected with an error wrapping ErrBadURL. TCP connections get
// TCP_NODELAY, as in the C implementation.
func (u *URL) Dial(ctx context.Context) (net.Conn, error) {
	if err := u.validate(false); err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, u.netNetwork(), u.hostPort())
	if err != nil {
		return nil, fmt.Errorf("sp: dial %s: %w", u, err)
	}
	tuneConn(c)
	return c, nil
}

// tuneConn applies sprig's socket options to a connection, whether dialed or
// accepted. The protocol exchanges small request and reply frames, so TCP
// connections disable Nagle's algorithm (TCP_NODELAY). Go's net package
// already does so by default; setting it here keeps the guarantee explicit.
// Other connections are left as they are. Failures are ignored: the option
// only affects latency.
func tuneConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
}

// netNetwork is the network name for package net.
func (u *URL) netNetwork() string {
	switch u.Scheme {
	case SchemeTCP:
		return "tcp4"
	case SchemeTCP6:
		return "tcp6"
	default:
		return "unix"
	}
}

// hostPort is the address string for package net.
func (u *URL) hostPort() string {
	if u.Scheme == SchemeUnix {
		return u.Path
	}
	return net.JoinHostPort(u.Addr.String(), fmt.Sprint(u.Port))
}

// listenUnix creates the socket file for u.Path.
//
// Permissions: where the system supports it (Linux), the socket's inode is
// given mode 0600 before bind, and bind creates the file from that mode, so
// the file is never accessible to anyone but the owner; the umask can only
// take bits away. Listen then chmods the path to exactly 0600, which only
// ever adds owner bits a strict umask removed. On other systems only the
// chmod after bind is available, and between bind and chmod the file
// briefly has mode 0777 minus the umask; a peer that connects within that
// window is queued. Put the socket in a directory only its owner can enter
// if that window matters.
//
// Stale sockets: the check (connect, then remove) and the bind are separate
// steps. bind itself never replaces a file, so two servers starting at once
// cannot both bind; but if both find the same stale file, one may remove the
// socket the other has just bound. The file's identity is rechecked just
// before removal, which makes that window small but not zero.
func listenUnix(ctx context.Context, u *URL) (net.Listener, error) {
	path := u.Path
	if err := clearStaleSocket(ctx, u); err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: unixSocketControl}
	l, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("sp: listen %s: %w (%w)", u, ErrAddrInUse, err)
		}
		return nil, fmt.Errorf("sp: listen %s: %w", u, err)
	}
	ul := l.(*net.UnixListener)
	// This listener removes the file itself, after checking it is still ours.
	ul.SetUnlinkOnClose(false)
	fail := func(err error) (net.Listener, error) {
		ul.Close()
		os.Remove(path)
		return nil, fmt.Errorf("sp: listen %s: %w", u, err)
	}
	if err := os.Chmod(path, unixSocketMode); err != nil {
		return fail(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return &unixSocketListener{UnixListener: ul, path: path, file: fi}, nil
}

// clearStaleSocket makes way for a new socket at u.Path. A missing file is
// fine; a socket nobody listens on is removed; anything else is an error.
func clearStaleSocket(ctx context.Context, u *URL) error {
	path := u.Path
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sp: listen %s: %w", u, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("sp: listen %s: %w: %s exists and is not a socket; not removing it",
			u, ErrAddrInUse, path)
	}
	d := net.Dialer{Timeout: staleProbeTimeout}
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		c.Close()
		return fmt.Errorf("sp: listen %s: %w: a server is accepting connections there", u, ErrAddrInUse)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		// Not provably dead (permission denied, backlog full, ...): leave it.
		return fmt.Errorf("sp: listen %s: %w: cannot tell whether the existing socket is stale: %w",
			u, ErrAddrInUse, err)
	}
	// Nobody listens: the file is left over from a server that died. Make
	// sure it is still the same file before removing it.
	again, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sp: listen %s: %w", u, err)
	}
	if !os.SameFile(fi, again) {
		return fmt.Errorf("sp: listen %s: %w: the socket file was replaced while being checked", u, ErrAddrInUse)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sp: listen %s: removing stale socket: %w", u, err)
	}
	return nil
}

// unixSocketListener is a unix listener that removes its socket file on
// Close. The embedded *net.UnixListener keeps its other methods (SetDeadline,
// File, AcceptUnix) available.
type unixSocketListener struct {
	*net.UnixListener
	path string
	file os.FileInfo // the socket file as created, to recognise it on Close

	once sync.Once // guards the removal of the file
}

// Close stops listening and removes the socket file, unless the file at the
// path is no longer the one this listener created. Like any net.Listener,
// a second Close reports an error; the file is only ever removed once.
func (l *unixSocketListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		fi, lerr := os.Lstat(l.path)
		if lerr != nil || !os.SameFile(fi, l.file) {
			return
		}
		if rerr := os.Remove(l.path); rerr != nil && err == nil {
			err = rerr
		}
	})
	return err
}
