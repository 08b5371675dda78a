package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/proxy"
)

var proxyDoc = doc{
	path: "sprig proxy",
	usage: "  sprig proxy --listen URL --client-abi ABI --upstream URL [--server-abi ABI] [--client-version 0.1|0.4]\n" +
		"              [--hide-abi] [--trace] [--debug]\n",
	details: `Runs a translating proxy between unmodified sysproxy peers of different
machines: clients of one ABI (C librumpclient programs, native sprig
clients) connect to --listen, and each gets its own connection to the
server at --upstream, of another ABI. Every frame is translated both
ways: byte order, argument structs, replies, copy requests and the typed
data in them (struct stat, dirents, sysctl values, ...), and, between a
64-bit client and a 32-bit server, the client's addresses. A syscall
whose data the proxy cannot translate is answered ENOSYS and logged.
Connections, refusals and disconnects are logged to stderr; SIGINT or
SIGTERM closes every connection and exits.

Flags:
  --listen URL           where clients connect: unix://PATH, tcp://A.B.C.D:PORT
  --client-abi ABI       the clients' ABI (a client that declares its ABI,
                         as a server-translates sprig client does, is taken
                         at its word; the declaration is not passed on)
  --upstream URL         the server
  --server-abi ABI       the server's ABI when its banner does not name one
                         (a C server's names a machine word, which several
                         ABIs share); default: from the banner
  --client-version V     the protocol era to speak to clients, 0.1 or 0.4
                         (default: the server's)
  --hide-abi             send clients the C banner (no " abi=NAME")
  --trace                print every frame on both sides, each in its side's
                         layout, and what was translated, to stdout
  --debug                log at debug level
`,
}

func proxyCommand() *command {
	return &command{name: "proxy", summary: "translate between sysproxy clients and a server of another ABI", doc: proxyDoc, run: runProxy}
}

func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(proxyDoc.path)
	listen := fs.String("listen", "", "")
	clientABI := fs.String("client-abi", "", "")
	upstream := fs.String("upstream", "", "")
	serverABI := fs.String("server-abi", "", "")
	clientVersion := fs.String("client-version", "", "")
	hide := fs.Bool("hide-abi", false, "")
	trace := fs.Bool("trace", false, "")
	debug := fs.Bool("debug", false, "")
	pos, done, code := parseFlags(fs, args, proxyDoc, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) > 0:
		return proxyDoc.usageError(stderr, "unexpected argument %q", pos[0])
	case *listen == "":
		return proxyDoc.usageError(stderr, "--listen is required")
	case *clientABI == "":
		return proxyDoc.usageError(stderr, "--client-abi is required")
	case *upstream == "":
		return proxyDoc.usageError(stderr, "--upstream is required")
	}
	cfg := proxy.DefaultConfig()
	var err error
	if cfg.ClientABI, err = abi.Resolve(*clientABI); err != nil {
		return proxyDoc.badName(stderr, err)
	}
	if *serverABI != "" {
		if cfg.ServerABI, err = abi.Resolve(*serverABI); err != nil {
			return proxyDoc.badName(stderr, err)
		}
	}
	if *clientVersion != "" {
		if cfg.ClientVersion, err = parseVersion(*clientVersion); err != nil {
			return proxyDoc.usageError(stderr, "%v", err)
		}
	}
	if _, err := sp.ParseURL(*upstream); err != nil {
		return proxyDoc.usageError(stderr, "--upstream: %v", err)
	}
	lu, err := sp.ParseURL(*listen)
	if err != nil {
		return proxyDoc.usageError(stderr, "--listen: %v", err)
	}
	cfg.Upstream, cfg.HideABI = *upstream, *hide
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *trace {
		var mu sync.Mutex
		cfg.Trace = func(e proxy.Event) {
			mu.Lock()
			fmt.Fprintln(stdout, e.String())
			mu.Unlock()
		}
	}
	p, err := proxy.New(cfg)
	if err != nil {
		return proxyDoc.failure(stderr, err)
	}
	ln, err := lu.Listen(ctx)
	if err != nil {
		return proxyDoc.failure(stderr, err)
	}
	server := "from the banner"
	if cfg.ServerABI != nil {
		server = cfg.ServerABI.Name
	}
	cfg.Logger.Info("proxying", "listen", listenedURL(lu, ln), "client abi", cfg.ClientABI.Name, "upstream", *upstream, "server abi", server)
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	select {
	case err = <-served:
		return proxyDoc.failure(stderr, err)
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return proxyDoc.failure(stderr, err)
	}
	<-served
	return exitOK
}
