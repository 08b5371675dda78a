package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/strace"
)

var serveDoc = doc{
	path: "sprig serve",
	usage: "  sprig serve [--url URL] [--abi ABI] [--version 0.1|0.4] [--assume-client-abi ABI] [--hide-abi]\n" +
		"              [--c-compatible] [--uid N] [--gid N] [--release R] [--ext kill,mmap] [--kill-any-client]\n" +
		"              [--max-preload N] [--read-spin D] [--trace] [--debug] [--profile DIR]\n",
	details: `Runs a standalone sprig server with the simulated NetBSD kernel behind it,
for outside clients: NetBSD's own librumpclient programs, C clients under
qemu-user, other sprig clients. With no flags it behaves as NetBSD 7.99.34's
rump_server: clients run as root, each starts with the rump console on
descriptors 0-2 (what they write there appears on sprig's standard output),
"/" is a rumpfs holding /dev and /tmp, and a client may mount a tmpfs.
Connections, handshakes and disconnects are logged to stderr. SIGINT or
SIGTERM drains in-flight syscalls (up to 5 s), removes a unix socket file and
exits. hw.ncpu is 2 unless RUMP_NCPU says otherwise (a number, or "host").

Flags:
  --url URL                 where to listen: unix://PATH, tcp://A.B.C.D:PORT,
                            tcp6://[ADDR]:PORT (default $RUMP_SERVER)
  --abi ABI                 the server's ABI (default: this host's, ` + hostABIName() + `)
  --version V               protocol era, 0.1 or 0.4 (default 0.4)
  --assume-client-abi ABI   lay out undeclared clients' frames with this ABI
  --hide-abi                send the C banner byte for byte (no " abi=NAME",
                            no " preload=N")
  --c-compatible            behave exactly like a C server: hide the ABI and
                            ignore ABI declarations
  --uid N                   the clients' user id (default 0, root, as rump_server)
  --gid N                   the clients' group id (default 0)
  --release R               the NetBSD release the kernel and banner claim
                            (default 7.99.34)
  --ext LIST                sprig's kernel extensions, which the real kernel
                            answers with ENOSYS: kill (signals forwarded as
                            RAISE), mmap (anonymous mmap and munmap), all, or
                            none (default none)
  --kill-any-client         with --ext kill, let a client signal processes of
                            other clients too (default: its own tree only)
  --max-preload N           offer sprig clients preloaded copyin: up to N bytes
                            a syscall copies in may come with it, saving the
                            COPYIN round trip (default ` + strconv.Itoa(sp.DefaultMaxPreload) + `; 0 offers none)
  --read-spin D             how long each connection's reader polls for the
                            client's next frame before it sleeps: CPU spent
                            so that a client calling back to back needs no
                            wakeup; one reader polls at a time, none while
                            another client that had data within 100 ms
                            waits (a client calling more rarely may wait up
                            to a millisecond behind a poll) (default ` + sp.DefaultReadSpin.String() + `; 0 never polls; at most ` + sp.MaxReadSpin.String() + `)
  --trace                   print every syscall strace style on stderr, each
                            line headed by its connection and the ABI its
                            frames are read in (#3 i386 → open("/tmp/f",
                            O_RDWR, 0644) = 3)
  --debug                   log every frame, naming its syscall
  --profile DIR             write CPU and allocation profiles of the server
                            (cpu.pprof, allocs.pprof) to DIR when it exits
`,
}

func serveCommand() *command {
	return &command{name: "serve", summary: "run a standalone sprig server for outside clients", doc: serveDoc, run: runServe}
}

// serveOptions are serve's flags.
type serveOptions struct {
	url, abiName, version, assume, release, extList *string
	profile                                         *string
	hide, ccompat, killAny, debug, trace            *bool
	uid, gid, maxPreload                            *uint
	readSpin                                        *time.Duration
}

// newServeFlags defines serve's flags; the usage line must list each.
func newServeFlags() (*flag.FlagSet, *serveOptions) {
	fs := newFlagSet(serveDoc.path)
	o := &serveOptions{
		url:        fs.String("url", "", ""),
		abiName:    fs.String("abi", hostABIName(), ""),
		version:    fs.String("version", "0.4", ""),
		assume:     fs.String("assume-client-abi", "", ""),
		hide:       fs.Bool("hide-abi", false, ""),
		ccompat:    fs.Bool("c-compatible", false, ""),
		uid:        fs.Uint("uid", 0, ""),
		gid:        fs.Uint("gid", 0, ""),
		release:    fs.String("release", kern.DefaultConfig().OSRelease, ""),
		extList:    fs.String("ext", "none", ""),
		killAny:    fs.Bool("kill-any-client", false, ""),
		maxPreload: fs.Uint("max-preload", sp.DefaultMaxPreload, ""),
		readSpin:   fs.Duration("read-spin", sp.DefaultReadSpin, ""),
		debug:      fs.Bool("debug", false, ""),
		trace:      fs.Bool("trace", false, ""),
		profile:    fs.String("profile", "", ""),
	}
	return fs, o
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, o := newServeFlags()
	url, abiName, version, assume, hide, ccompat := o.url, o.abiName, o.version, o.assume, o.hide, o.ccompat
	uid, gid, release, extList, killAny, debug := o.uid, o.gid, o.release, o.extList, o.killAny, o.debug
	pos, done, code := parseFlags(fs, args, serveDoc, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return serveDoc.usageError(stderr, "unexpected argument %q", pos[0])
	}
	d, err := abi.Resolve(*abiName)
	if err != nil {
		return serveDoc.badName(stderr, err)
	}
	v, err := parseVersion(*version)
	if err != nil {
		return serveDoc.usageError(stderr, "%v", err)
	}
	ext, err := kern.ParseExtensions(*extList)
	if err != nil {
		return serveDoc.usageError(stderr, "--ext: %v", err)
	}
	ncpu, err := rumpNCPU(os.Getenv("RUMP_NCPU"))
	if err != nil {
		return serveDoc.usageError(stderr, "%v", err)
	}
	var u *sp.URL
	if *url == "" {
		u, err = sp.URLFromEnv()
	} else {
		u, err = sp.ParseURL(*url)
	}
	if err != nil {
		return serveDoc.usageError(stderr, "%v", err)
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	kcfg := kern.DefaultConfig()
	kcfg.ABI, kcfg.UID, kcfg.GID, kcfg.Logger = d, uint32(*uid), uint32(*gid), log
	kcfg.OSRelease, kcfg.NCPU = *release, ncpu
	kcfg.Extensions, kcfg.KillAnyClient = ext, *killAny
	kcfg.Console = stdout // rump_server's console is its standard output
	k, err := kern.New(kcfg)
	if err != nil {
		return serveDoc.failure(stderr, err)
	}
	scfg := sp.DefaultServerConfig(d)
	scfg.Version, scfg.Logger, scfg.OSRelease = v, log, kcfg.OSRelease
	scfg.HideABI = *hide || *ccompat
	scfg.IgnoreDeclarations = *ccompat
	scfg.MaxPreload = uint64(*o.maxPreload)
	scfg.ReadSpin = *o.readSpin
	if *assume != "" {
		if scfg.AssumeClientABI, err = abi.Resolve(*assume); err != nil {
			return serveDoc.badName(stderr, err)
		}
	}
	scfg.Trace = serveTrace(log, *debug, *o.trace, stderr)
	srv, err := sp.NewServer(k, scfg)
	if err != nil {
		return serveDoc.failure(stderr, err)
	}
	ln, err := u.Listen(ctx)
	if err != nil {
		return serveDoc.failure(stderr, err)
	}
	if *o.profile != "" {
		stop, err := startProfile(*o.profile)
		if err != nil {
			return serveDoc.failure(stderr, err)
		}
		defer func() {
			if err := stop(); err != nil {
				log.Error("writing the profiles", "err", err)
			}
		}()
	}
	log.Info("serving", "url", listenedURL(u, ln), "abi", d.Name, "machine", d.Machine, "protocol", v.String(),
		"release", kcfg.OSRelease, "uid", kcfg.UID, "gid", kcfg.GID, "extensions", ext.String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
		return serveDoc.failure(stderr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return serveDoc.failure(stderr, err)
	}
	<-served
	return exitOK
}

// serveTrace is the server's frame hook: with trace an strace-like line
// per syscall on w, with debug a log record per frame that names its
// syscall; nil for neither.
func serveTrace(log *slog.Logger, debug, trace bool, w io.Writer) func(*sp.ConnInfo, sp.Direction, *sp.Frame) {
	var tr *strace.Tracer
	if trace {
		tr = strace.New(w, "")
	}
	if !debug && tr == nil {
		return nil
	}
	return func(c *sp.ConnInfo, dir sp.Direction, f *sp.Frame) {
		if debug {
			attrs := []any{"conn", c.ID, "dir", dir.String(), "class", f.Class.String(), "type", f.Type.String(), "reqno", f.Reqno, "len", f.Len}
			if f.Type == sp.TypeSyscall && f.Class == sp.ClassReq {
				attrs = append(attrs, "syscall", netbsd.Sysno(f.U).String())
			}
			log.Debug("frame", attrs...)
		}
		if tr != nil {
			tr.ServerFrame(c, dir, f)
		}
	}
}

// listenedURL is the URL ln listens on: u, with the port the system
// chose when u asked for port 0.
func listenedURL(u *sp.URL, ln net.Listener) string {
	if a, ok := ln.Addr().(*net.TCPAddr); ok && u.Scheme != sp.SchemeUnix {
		v := *u
		v.Port = uint16(a.Port)
		return v.String()
	}
	return u.String()
}

// rumpNCPU reads RUMP_NCPU as librumpuser does: unset is 2 CPUs, "host"
// the host's count, else a number.
func rumpNCPU(env string) (int, error) {
	switch env {
	case "":
		return 0, nil // kern's default, 2
	case "host":
		return runtime.NumCPU(), nil
	}
	n, err := strconv.Atoi(env)
	if err != nil || n < 1 || n > 1024 {
		return 0, fmt.Errorf("RUMP_NCPU %q: want a number from 1 to 1024 or \"host\"", env)
	}
	return n, nil
}
