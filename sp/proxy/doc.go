// Package proxy is a translating sysproxy proxy: it lets an unmodified
// client of one machine ABI (a C librumpclient program on i386, on
// big-endian mips) talk to an unmodified server of another (a C
// rump_server on amd64), neither of which converts anything.
//
// For each client connection the proxy opens one connection to the
// upstream server and translates every frame in both directions: the
// header's byte order; handshake bodies (a client's sprig-abi declaration
// is honoured as its ABI and stripped; PREFORK cookies pass through);
// syscall argument structs slot by slot; rsp_sysresp (register width, an
// off_t split over two 32-bit words or joined from them); rsp_copydata
// and the typed data inside COPYIN and COPYOUT (struct stat, dirents,
// sysctl values by MIB, size_t at a length pointer, int arrays, anything
// abi/netbsd has a layout for); ANONMMAP sizes and addresses; ERROR codes
// between the 0.1 errno era and the 0.4 enum era. RAISE signal numbers
// are the same on every NetBSD ABI and pass through.
//
// A copy request carries only an address, so the proxy attributes it to
// the syscall in flight whose pointer argument covers that address (the
// table of which argument points at what is abi/netbsd's, the mechanism
// sp/internal/xlate's, shared with sp.Client's client-translates mode).
// Bytes without a type pass as they are. A syscall whose typed data the
// proxy cannot translate is answered ENOSYS and logged, never forwarded
// mangled. Between a 64-bit client and a 32-bit server every pointer of
// a syscall in flight is given a window of 32-bit addresses for the
// server to use, so clients whose memory lies above 4 GiB work.
//
// Request numbers are the proxy's on each side and mapped back; several
// syscalls may be in flight per connection, forks map the child's new
// connection to a new upstream connection, and either side's disconnect
// closes the other. An upstream that is down gets the client a banner and
// an ERROR answer to its handshake, and the proxy keeps serving others.
//
// Eras: the proxy speaks the upstream's era upstream and
// Config.ClientVersion (by default the upstream's) to its clients,
// converting GUEST bodies and ERROR codes between them.
//
// Not for: running syscalls (the upstream does), or relaying between
// peers of one ABI with no translation at all (a socket relay does that
// faster; the proxy still works, passing bodies as they are).
package proxy
