package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
)

var serveDoc = doc{
	path:  "sprig serve",
	usage: "  sprig serve --url URL [--abi ABI] [--version 0.1|0.4] [--assume-client-abi ABI] [--hide-abi] [--c-compatible] [--profile DIR]\n",
	details: `Runs a standalone sprig server with the simulated NetBSD kernel behind it,
for outside clients: NetBSD's own librumpclient programs, C clients under
qemu-user, other sprig clients. Connections, handshakes and disconnects
are logged to stderr. SIGINT or SIGTERM drains in-flight syscalls (up to
5 s), removes a unix socket file and exits.

Flags:
  --url URL                 where to listen: unix://PATH, tcp://A.B.C.D:PORT,
                            tcp6://[ADDR]:PORT (default $RUMP_SERVER)
  --abi ABI                 the server's ABI (default: this host's, ` + hostABIName() + `)
  --version V               protocol era, 0.1 or 0.4 (default 0.4)
  --assume-client-abi ABI   lay out undeclared clients' frames with this ABI
  --hide-abi                send the C banner byte for byte (no " abi=NAME")
  --c-compatible            behave exactly like a C server: hide the ABI and
                            ignore ABI declarations
  --uid N, --gid N          client credentials (default 1000)
  --debug                   log every frame
  --profile DIR             write CPU and allocation profiles of the server
                            (cpu.pprof, allocs.pprof) to DIR when it exits
`,
}

func serveCommand() *command {
	return &command{name: "serve", summary: "run a standalone sprig server for outside clients", doc: serveDoc, run: runServe}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(serveDoc.path, flag.ContinueOnError)
	url := fs.String("url", "", "")
	abiName := fs.String("abi", hostABIName(), "")
	version := fs.String("version", "0.4", "")
	assume := fs.String("assume-client-abi", "", "")
	hide := fs.Bool("hide-abi", false, "")
	ccompat := fs.Bool("c-compatible", false, "")
	uid := fs.Uint("uid", 1000, "")
	gid := fs.Uint("gid", 1000, "")
	debug := fs.Bool("debug", false, "")
	profile := fs.String("profile", "", "")
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
	k, err := kern.New(kcfg)
	if err != nil {
		return serveDoc.failure(stderr, err)
	}
	scfg := sp.DefaultServerConfig(d)
	scfg.Version, scfg.Logger = v, log
	scfg.HideABI = *hide || *ccompat
	scfg.IgnoreDeclarations = *ccompat
	if *assume != "" {
		if scfg.AssumeClientABI, err = abi.Resolve(*assume); err != nil {
			return serveDoc.badName(stderr, err)
		}
	}
	if *debug {
		scfg.Trace = func(c *sp.ConnInfo, dir sp.Direction, f *sp.Frame) {
			log.Debug("frame", "conn", c.ID, "dir", dir.String(), "header", f.Header.String(), "body", len(f.Body))
		}
	}
	srv, err := sp.NewServer(k, scfg)
	if err != nil {
		return serveDoc.failure(stderr, err)
	}
	ln, err := u.Listen(ctx)
	if err != nil {
		return serveDoc.failure(stderr, err)
	}
	if *profile != "" {
		stop, err := startProfile(*profile)
		if err != nil {
			return serveDoc.failure(stderr, err)
		}
		defer func() {
			if err := stop(); err != nil {
				log.Error("writing the profiles", "err", err)
			}
		}()
	}
	log.Info("serving", "url", u.String(), "abi", d.Name, "machine", d.Machine, "protocol", v.String())
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
