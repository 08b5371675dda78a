package kern_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
)

// The facts of /work/shared/spec/real-rump.md, measured on NetBSD's own
// rump_server, one table per section of that file, each subtest named
// after the fact it checks. Every fact runs on a fresh kernel behind a
// sprig server, over a unix socket, from clients of three ABIs: amd64,
// i386 (64-bit integers aligned to 4) and big-endian mips.

// fact is one measured behaviour and its check.
type fact struct {
	name  string
	tune  func(*kern.Config)
	check func(t *testing.T, e *env)
}

var factSetups = []setup{
	{"amd64", "amd64", "amd64", sp.ModeNative},
	{"i386", "i386", "i386", sp.ModeNative},
	{"mips", "mips", "mips", sp.ModeNative},
}

func runFacts(t *testing.T, facts []fact) {
	for _, f := range facts {
		t.Run(f.name, func(t *testing.T) {
			for _, s := range factSetups {
				t.Run(s.name, func(t *testing.T) { f.check(t, newEnv(t, s, f.tune)) })
			}
		})
	}
}

// syncBuffer is the console's standard output in a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// listing returns the names a directory lists in one big getdents call.
func (e *env) listing(path string) []string {
	e.t.Helper()
	fd := e.open(path, netbsd.O_RDONLY, 0)
	defer e.ok(netbsd.SYS_close, fd)
	ds, errno := e.getdents(fd, 4096)
	require.Zero(e.t, errno)
	return names(ds)
}

// withTmpfs mounts a tmpfs on a new directory /mnt (root's, 0755).
func (e *env) withTmpfs() {
	e.t.Helper()
	e.ok(netbsd.SYS_mkdir, e.str("/mnt"), 0o755)
	e.mountTmpfs("/mnt", 0, 0, 0o755)
}

// onBoth runs fn with a directory on rumpfs (/tmp) and one on a tmpfs
// (/mnt), for the rules that hold on every file system.
func (e *env) onBoth(fn func(t *testing.T, e *env, dir string)) {
	e.t.Helper()
	e.withTmpfs()
	for _, fs := range []struct{ name, dir string }{{"rumpfs", "/tmp"}, {"tmpfs", "/mnt"}} {
		e.t.Run(fs.name, func(t *testing.T) { fn(t, e.with(t), fs.dir) })
	}
}

// timevals lays out two struct timevals in the client's layout.
func (e *env) timevals(a, m netbsd.Timeval) uint64 {
	e.t.Helper()
	l := netbsd.LayoutsFor(e.abi()).Timeval
	var b []byte
	for _, tv := range []netbsd.Timeval{a, m} {
		enc, err := l.Encode(&tv)
		require.NoError(e.t, err)
		b = append(b, enc...)
	}
	return e.bytes(b)
}

// ioctlInt runs an ioctl whose argument is one C int and returns it.
func (e *env) ioctlInt(fd uint64, cmd uint32, in int32) (int32, netbsd.Errno) {
	e.t.Helper()
	arg := e.putCInts(in)
	r := e.call(netbsd.SYS_ioctl, fd, uint64(cmd), arg)
	return e.cint(arg), r.Errno
}

func TestRealRump1ANewClientProcess(t *testing.T) {
	runFacts(t, []fact{
		{name: "credentials are root: uid, euid, gid and egid 0, no supplementary groups", check: func(t *testing.T, e *env) {
			assert.Equal(t, [2]uint64{0, 0}, e.call(netbsd.SYS_getuid).Retval)
			assert.Equal(t, uint64(0), e.ok(netbsd.SYS_geteuid))
			assert.Equal(t, [2]uint64{0, 0}, e.call(netbsd.SYS_getgid).Retval)
			assert.Equal(t, uint64(0), e.ok(netbsd.SYS_getegid))
			assert.Equal(t, uint64(0), e.ok(netbsd.SYS_getgroups, 0, 0), "no groups")
		}},
		{name: "getuid returns the uid in retval[0] and the euid in retval[1], getgid likewise", check: func(t *testing.T, e *env) {
			e.ok(netbsd.SYS_setegid, 77)
			e.ok(netbsd.SYS_seteuid, 1000)
			assert.Equal(t, [2]uint64{0, 1000}, e.call(netbsd.SYS_getuid).Retval)
			assert.Equal(t, [2]uint64{0, 77}, e.call(netbsd.SYS_getgid).Retval)
			assert.Equal(t, uint64(77), e.ok(netbsd.SYS_getegid))
		}},
		{name: "getrlimit(RLIMIT_NOFILE) is cur 128, max 1772", check: func(t *testing.T, e *env) {
			l := netbsd.LayoutsFor(e.abi()).Rlimit
			b := e.buf(l.Size)
			e.ok(netbsd.SYS_getrlimit, netbsd.RLIMIT_NOFILE, b)
			var lim netbsd.Rlimit
			require.NoError(t, l.Decode(e.mem.Read(b, l.Size), &lim))
			assert.Equal(t, netbsd.Rlimit{Cur: 128, Max: 1772}, lim)
		}},
		{name: "setuid and setgid work", check: func(t *testing.T, e *env) {
			e.ok(netbsd.SYS_setgid, 5)
			e.ok(netbsd.SYS_setuid, 7)
			assert.Equal(t, [2]uint64{7, 7}, e.call(netbsd.SYS_getuid).Retval)
			assert.Equal(t, [2]uint64{5, 5}, e.call(netbsd.SYS_getgid).Retval)
		}},
		{name: "getlogin works", check: func(t *testing.T, e *env) {
			b := e.buf(netbsd.MAXLOGNAME)
			e.ok(netbsd.SYS___getlogin, b, netbsd.MAXLOGNAME)
			e.ok(netbsd.SYS___setlogin, e.str("operator"))
			e.ok(netbsd.SYS___getlogin, b, netbsd.MAXLOGNAME)
			assert.Equal(t, "operator", strings.TrimRight(string(e.mem.Read(b, netbsd.MAXLOGNAME)), "\x00"))
		}},
		{name: "the first GUEST client is pid 2 with ppid 1", check: func(t *testing.T, e *env) {
			assert.Equal(t, [2]uint64{2, 1}, e.call(netbsd.SYS_getpid).Retval)
		}},
		{name: "umask is 022", check: func(t *testing.T, e *env) {
			assert.Equal(t, uint64(0o022), e.ok(netbsd.SYS_umask, 0o022))
		}},
		{name: "fds 0, 1 and 2 are open on the console, so the first open returns 3", check: func(t *testing.T, e *env) {
			assert.Equal(t, uint64(3), e.open("/dev/null", netbsd.O_RDONLY, 0))
		}},
		{name: "the console's fstat: character device, mode 020600, nlink 0, uid 0, gid 0, size 0, st_blksize 0, st_blocks 0, st_rdev 0", check: func(t *testing.T, e *env) {
			for fd := range uint64(3) {
				st, errno := e.stat(netbsd.SYS___fstat50, fd)
				require.Zero(t, errno)
				assert.Equal(t, uint32(netbsd.S_IFCHR|0o600), st.Mode, "fd %d", fd)
				assert.Zero(t, st.Nlink)
				assert.Zero(t, st.UID)
				assert.Zero(t, st.GID)
				assert.Zero(t, st.Size)
				assert.Zero(t, st.Blksize)
				assert.Zero(t, st.Blocks)
				assert.Zero(t, st.Rdev)
			}
		}},
		{name: "the console's fcntl(F_GETFL) is O_WRONLY", check: func(t *testing.T, e *env) {
			for fd := range uint64(3) {
				assert.Equal(t, uint64(netbsd.O_WRONLY), e.ok(netbsd.SYS_fcntl, fd, netbsd.F_GETFL, 0), "fd %d", fd)
			}
		}},
		{name: "writing the console succeeds and the bytes appear on the server's standard output",
			tune: func(c *kern.Config) { c.Console = &syncBuffer{} },
			check: func(t *testing.T, e *env) {
				out := e.k.Config().Console.(*syncBuffer)
				msg := "hello from the guest\n"
				assert.Equal(t, uint64(len(msg)), e.ok(netbsd.SYS_write, 1, e.bytes([]byte(msg)), uint64(len(msg))))
				big := strings.Repeat("b", 10000)
				mark := e.reqs.mark()
				assert.Equal(t, uint64(len(big)), e.ok(netbsd.SYS_write, 2, e.bytes([]byte(big)), uint64(len(big))))
				assert.Equal(t, 3, e.reqs.since(mark, sp.TypeCopyIn), "rumpcons copies a page at a time")
				assert.Equal(t, msg+big, out.String())
			}},
		{name: "reading the console is EBADF", check: func(t *testing.T, e *env) {
			assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_read, 0, e.buf(8), 8))
		}},
		{name: "lseek on the console is ESPIPE", check: func(t *testing.T, e *env) {
			assert.Equal(t, netbsd.ESPIPE, e.errno(netbsd.SYS_lseek, 1, 0, netbsd.SEEK_SET))
		}},
		{name: "ioctl(TIOCGETA) on the console succeeds and fills a 44-byte struct termios", check: func(t *testing.T, e *env) {
			b := e.bytes(bytes.Repeat([]byte{0xee}, 48))
			e.ok(netbsd.SYS_ioctl, 0, netbsd.TIOCGETA, b)
			got := e.mem.Read(b, 48)
			assert.Equal(t, make([]byte, 44), got[:44], "the struct termios, zeroed")
			assert.Equal(t, []byte{0xee, 0xee, 0xee, 0xee}, got[44:], "and not a byte more")
		}},
		{name: "the descriptor table holds 128 entries: dup2 onto 127 works, onto 128 is EBADF", check: func(t *testing.T, e *env) {
			assert.Equal(t, uint64(127), e.ok(netbsd.SYS_dup2, 0, 127))
			assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_dup2, 0, 128))
			assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_dup2, 0, 1000))
		}},
		{name: "F_DUPFD_CLOEXEC (12) works like F_DUPFD and sets FD_CLOEXEC", check: func(t *testing.T, e *env) {
			assert.Equal(t, uint64(10), e.ok(netbsd.SYS_fcntl, 1, 12, 10))
			assert.Equal(t, uint64(netbsd.FD_CLOEXEC), e.ok(netbsd.SYS_fcntl, 10, netbsd.F_GETFD, 0))
			assert.Equal(t, uint64(netbsd.O_WRONLY), e.ok(netbsd.SYS_fcntl, 10, netbsd.F_GETFL, 0), "the console's duplicate")
		}},
		{name: "before any client creates anything, / holds exactly dev and tmp", check: func(t *testing.T, e *env) {
			assert.Equal(t, []string{"tmp", "dev"}, e.listing("/"))
		}},
		{name: "/tmp is mode 041777", check: func(t *testing.T, e *env) {
			assert.Equal(t, uint32(0o41777), e.statPath("/tmp").Mode)
		}},
		{name: "/dev holds the character devices null and zero", check: func(t *testing.T, e *env) {
			assert.ElementsMatch(t, []string{"null", "zero"}, e.listing("/dev"))
			for _, d := range []string{"/dev/null", "/dev/zero"} {
				assert.Equal(t, uint32(netbsd.S_IFCHR), e.statPath(d).Mode&netbsd.S_IFMT, d)
			}
			null, zero := e.open("/dev/null", netbsd.O_RDWR, 0), e.open("/dev/zero", netbsd.O_RDWR, 0)
			b := e.bytes([]byte("xxxx"))
			assert.Equal(t, uint64(4), e.ok(netbsd.SYS_write, null, b, 4), "null swallows writes")
			assert.Equal(t, uint64(0), e.ok(netbsd.SYS_read, null, b, 4), "and reads as empty")
			assert.Equal(t, uint64(4), e.ok(netbsd.SYS_read, zero, b, 4), "zero reads")
			assert.Equal(t, []byte{0, 0, 0, 0}, e.mem.Read(b, 4), "zeros")
		}},
	})
}

func TestRealRump5WhatTheRealKernelDoesNotDo(t *testing.T) {
	sysctlStr := func(t *testing.T, e *env, mib ...int32) string {
		r := e.sysctl(mib, 512, nil)
		require.Zero(t, r.errno)
		return string(r.value[:r.oldlen])
	}
	sysctlInt := func(t *testing.T, e *env, mib ...int32) int32 {
		r := e.sysctl(mib, 16, nil)
		require.Zero(t, r.errno)
		require.Equal(t, uint64(4), r.oldlen, "an int")
		return int32(e.abi().ByteOrder().Uint32(r.value))
	}
	runFacts(t, []fact{
		{name: "kill, exit, mmap and munmap are ENOSYS; the connection stays usable after exit", check: func(t *testing.T, e *env) {
			assert.Equal(t, netbsd.ENOSYS, e.errno(netbsd.SYS_kill, 2, 0))
			assert.Equal(t, netbsd.ENOSYS, e.errno(netbsd.SYS_exit, 0))
			assert.Equal(t, netbsd.ENOSYS, e.errno(netbsd.SYS_mmap, 0, 4096, 3, netbsd.MAP_ANON|netbsd.MAP_PRIVATE, neg(-1), 0))
			assert.Equal(t, netbsd.ENOSYS, e.errno(netbsd.SYS_munmap, 0x10000, 4096))
			assert.Equal(t, [2]uint64{2, 1}, e.call(netbsd.SYS_getpid).Retval)
		}},
		{name: "fork (2), execve (59), syscall 0 and unknown numbers are ENOSYS", check: func(t *testing.T, e *env) {
			for _, n := range []netbsd.Sysno{2, 59, 0, 9999} {
				assert.Equal(t, netbsd.ENOSYS, e.errno(n), "syscall %d", n)
			}
		}},
		{name: "with the baseline components every socket call is ENOSYS", check: func(t *testing.T, e *env) {
			assert.Equal(t, netbsd.ENOSYS, e.errno(netbsd.SYS___socket30, netbsd.AF_INET, netbsd.SOCK_STREAM, 0))
		}},
		{name: "sysctl: kern.ostype NetBSD, kern.osrelease 7.99.34, kern.osrevision 799003400 (int), kern.version NetBSD 7.99.34 (RUMP-ROAST)", check: func(t *testing.T, e *env) {
			assert.Equal(t, "NetBSD\x00", sysctlStr(t, e, netbsd.CTL_KERN, netbsd.KERN_OSTYPE))
			assert.Equal(t, "7.99.34\x00", sysctlStr(t, e, netbsd.CTL_KERN, netbsd.KERN_OSRELEASE))
			assert.Equal(t, int32(799003400), sysctlInt(t, e, netbsd.CTL_KERN, netbsd.KERN_OSREV))
			assert.Equal(t, "NetBSD 7.99.34 (RUMP-ROAST)\n\x00", sysctlStr(t, e, netbsd.CTL_KERN, netbsd.KERN_VERSION))
		}},
		{name: "sysctl: kern.hostname is rump-<the server's host pid>.<host>", check: func(t *testing.T, e *env) {
			host, err := os.Hostname()
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprintf("rump-%05d.%s\x00", os.Getpid(), host), sysctlStr(t, e, netbsd.CTL_KERN, netbsd.KERN_HOSTNAME))
		}},
		{name: "sysctl: hw.machine and hw.machine_arch of the server, hw.pagesize 4096, hw.ncpu, hw.byteorder by the server's byte order", check: func(t *testing.T, e *env) {
			d := e.k.Config().ABI
			assert.Equal(t, d.Machine+"\x00", sysctlStr(t, e, netbsd.CTL_HW, netbsd.HW_MACHINE))
			assert.Equal(t, d.MachineArch+"\x00", sysctlStr(t, e, netbsd.CTL_HW, netbsd.HW_MACHINE_ARCH))
			assert.Equal(t, int32(4096), sysctlInt(t, e, netbsd.CTL_HW, netbsd.HW_PAGESIZE))
			assert.Equal(t, int32(2), sysctlInt(t, e, netbsd.CTL_HW, netbsd.HW_NCPU), "librumpuser's 2 unless RUMP_NCPU says otherwise")
			order := int32(1234)
			if d.BigEndian() {
				order = 4321
			}
			assert.Equal(t, order, sysctlInt(t, e, netbsd.CTL_HW, netbsd.HW_BYTEORDER))
		}},
		{name: "sysctl: kern.maxfiles, kern.maxproc and kern.argmax are ENOENT", check: func(t *testing.T, e *env) {
			for _, n := range []int32{netbsd.KERN_MAXFILES, netbsd.KERN_MAXPROC, netbsd.KERN_ARGMAX} {
				assert.Equal(t, netbsd.ENOENT, e.sysctl([]int32{netbsd.CTL_KERN, n}, 16, nil).errno, "kern.%d", n)
			}
		}},
		{name: "sysctl: writing kern.ostype is EPERM", check: func(t *testing.T, e *env) {
			assert.Equal(t, netbsd.EPERM, e.sysctl([]int32{netbsd.CTL_KERN, netbsd.KERN_OSTYPE}, 64, []byte("Linux\x00")).errno)
		}},
		{name: "sysctl: a too-small old buffer gives ENOMEM with a partial copy and the full length in oldlenp", check: func(t *testing.T, e *env) {
			r := e.sysctl([]int32{netbsd.CTL_KERN, netbsd.KERN_VERSION}, 6, nil)
			assert.Equal(t, netbsd.ENOMEM, r.errno)
			assert.Equal(t, "NetBSD", string(r.value))
			assert.Equal(t, uint64(len("NetBSD 7.99.34 (RUMP-ROAST)\n")+1), r.oldlen)
		}},
	})
}

func TestRealRump6FaultsOnTheClientsSide(t *testing.T) {
	const unmapped = 8 // no client memory there; NULL itself is EFAULT before any request
	runFacts(t, []fact{
		{name: "a COPYIN whose reply is empty: sprig answers EFAULT and keeps serving (the C server dies)", check: func(t *testing.T, e *env) {
			mark := e.reqs.mark()
			assert.Equal(t, netbsd.EFAULT, e.errno(netbsd.SYS_write, 1, unmapped, 4))
			assert.Equal(t, 1, e.reqs.since(mark, sp.TypeCopyIn), "the client was asked")
			assert.Equal(t, [2]uint64{2, 1}, e.call(netbsd.SYS_getpid).Retval)
		}},
		{name: "for a path (COPYINSTR) an empty reply gives ENAMETOOLONG", check: func(t *testing.T, e *env) {
			mark := e.reqs.mark()
			assert.Equal(t, netbsd.ENAMETOOLONG, e.errno(netbsd.SYS_open, unmapped, netbsd.O_RDONLY, 0))
			assert.Equal(t, 1, e.reqs.since(mark, sp.TypeCopyInStr))
		}},
		{name: "a COPYOUT to an address the client cannot store is lost without a trace, and the syscall succeeds", check: func(t *testing.T, e *env) {
			assert.Zero(t, e.errno(netbsd.SYS___fstat50, 0, unmapped))
			assert.Equal(t, [2]uint64{2, 1}, e.call(netbsd.SYS_getpid).Retval)
		}},
	})
}
