// Package sp implements rump sysproxy, NetBSD's remote system call
// protocol, for any C ABI and both protocol eras (0.1 and 0.4). It is
// wire-compatible with the C client (librumpclient) and server
// (rump_server) and does not repeat their known defects.
//
// # Pieces
//
//   - Framer owns reading and writing frames on one connection: the 24-byte
//     header in the sender's byte order, a body bounded by MaxFrame, and
//     each frame in a single write. Protocol violations are
//     *ProtocolError values wrapping sentinels (ErrFrameTooLarge,
//     ErrFrameTooShort, ErrBodySize) that errors.Is matches.
//   - Codec encodes and decodes the bodies (rsp_sysresp, rsp_copydata,
//     handshake_fork, C int, size_t, void *) for one abi.Descriptor.
//   - Server accepts clients, runs the handshake state machine
//     (NEW → RUNNING → DYING), queues SYSCALL requests per connection,
//     shares its workers among connections round-robin and runs the
//     syscalls on a Kernel, which reaches the client's memory through a
//     Memory (COPYIN, COPYINSTR, COPYOUT, ANONMMAP) and signals it with
//     RAISE. Package kern provides the real Kernel; sp/sptest a small
//     one for tests.
//   - Client dials a URL (unix://, tcp://, tcp6://, or $RUMP_SERVER),
//     reads the banner, handshakes (GUEST, FORK, EXEC), runs syscalls
//     with many in flight, and serves the server's requests from the
//     Memory the caller supplies: the same interface the kernel sees.
//   - Result is a syscall's outcome on both sides: Errno, the two return
//     words, and Err, Int and Off to read them in the client's ABI.
//
// A client program, in short (see the examples for whole ones):
//
//	cfg := sp.DefaultClientConfig(abi.MustLookup("amd64"))
//	mem := sptest.NewMemory(0x10000, 1<<20) // or your own sp.Memory
//	cfg.Memory = mem
//	c, err := sp.Dial(ctx, "unix:///tmp/rump.sock", cfg)
//	...
//	err = c.HandshakeGuest(ctx)
//	r, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/f"), netbsd.O_RDONLY, 0)
//	if err == nil && r.Err() == nil { fd := r.Int() ... }
//
// # Cross-ABI modes
//
// The C peers never convert anything: every integer is in the sender's
// byte order and width, every struct in the sender's layout. sprig offers
// three modes on one code path (see Mode):
//
//   - native: each side uses its own ABI, exactly like the C code, so a
//     mismatch shows as it would between real machines;
//   - server-translates: the client declares its ABI and a sprig server
//     lays that client's frames out with it;
//   - client-translates: the client lays its frames out with the server's
//     ABI and converts typed data (struct stat, dirents, sysctl values,
//     size_t, int arrays, split off_t results: whatever abi/netbsd's
//     pointee table types) between the server's layout and its own
//     memory, so it works against unmodified C servers. A 64-bit client
//     of a 32-bit server hands the server windows of 32-bit addresses
//     in place of its own, so its memory may lie anywhere.
//
// When neither peer is sprig, sp/proxy sits between them and translates
// with the same mechanism.
//
// # Protocol extensions
//
// All three are invisible to C peers.
//
// ABI declaration (server-translates). The GUEST handshake body of a 0.4
// client is the program name and a NUL. A declaring client appends, after
// that NUL, the text "sprig-abi:" followed by its abi.Descriptor as JSON:
//
//	"myprog\x00sprig-abi:{\"name\":\"mips\",...}"
//
// A 0.4 C server reads the name up to the NUL and stops; a 0.1 C server
// ignores the GUEST body altogether (a 0.1 sprig client that declares
// sends an empty name, its NUL and the declaration). A sprig server
// validates the descriptor and, from then on, reads and writes that
// client's frames with it. Because the declaration arrives inside a frame
// whose header is already in the client's byte order, a sprig server that
// sees an impossible length on a connection's first header retries it in
// the other byte order; the connection survives only if the GUEST
// handshake then declares an ABI of that byte order. A forked connection
// inherits its parent's declared ABI. ServerConfig.IgnoreDeclarations
// turns all of this off.
//
// Banner ABI. A sprig server appends " abi=NAME" to its banner line before
// the newline ("RUMPSP-0.4-NetBSD-9.3/evbmips abi=mips\n"). The C client
// only checks that the line ends in a newline. The machine word alone
// cannot tell a client-translating client the server's exact ABI
// (evbmips is big- and little-endian mips), so the name settles it;
// against a C server the client falls back to the machine word, or to
// ClientConfig.ServerABI when that word is ambiguous.
// ServerConfig.HideABI sends the C banner byte for byte.
//
// Preloaded copyin. A COPYIN is a round trip in the middle of a syscall:
// a pwrite or an open costs two. A sprig server offers to take the bytes
// with the syscall instead, in its banner (" preload=N", N bytes at
// most; ServerConfig.MaxPreload), and a client that asks for it
// (ClientConfig.Preload) sends, just before a SYSCALL and in the same
// write, a REQ/PRELOAD (type 0x7370) of the same reqno whose body is the
// bytes that syscall will copy in as far as abi/netbsd's pointee table
// says (byte buffers with their length argument, strings): a run of
// rsp_copydata entries with their data, a COPYOUT body each. The
// server's kernel copies in from them; a copy they do not cover whole,
// or of bytes the syscall has since copied out over, still goes to the
// client, so the kernel sees what the COPYIN answers would have said. A
// PRELOAD that is malformed, longer than offered, beyond the budgets or
// not followed by its SYSCALL is dropped, and its call copies in as
// usual. A client preloads only for a server whose banner names the
// client's own ABI, never in client-translates mode.
//
// # Clients that misbehave
//
// No client can starve, bloat or wedge a Server for the others
// (ServerConfig documents each limit and its default):
//
//   - scheduling: a per-connection cap on running syscalls, a round-robin
//     turn among connections with queued work, a worker for any
//     connection with none running, and TRYAGAIN only when the
//     server-wide queue is full, for the client holding the most;
//   - memory: what is kept of a body depends on its kind, not on its
//     announced length (a SYSCALL keeps its argument struct, a GUEST or
//     EXEC keeps MaxComLen bytes of name and MaxDeclaration of
//     declaration, a COPYIN reply at most what was asked), received
//     bytes held are bounded per connection and server-wide, pending
//     forks per client, and declared ABIs are freed with their clients;
//   - time: handshake, write, optional idle and copy timeouts;
//   - logs: each connection's repeated messages are rate-limited, with a
//     count of what was dropped.
//
// # Not for
//
// sp does not implement syscalls; it moves them. The kernel behind a
// server decides what a syscall does.
package sp
