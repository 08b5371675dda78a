package kern_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
)

// fuzzBase is where the fuzzed client memory starts.
const fuzzBase = 0x1000

// fuzzABIs are the ABIs a fuzz input may pick for decoding.
var fuzzABIs = []string{"amd64", "i386", "arm", "mips", "aarch64eb", "sparc64", "powerpc"}

// fuzzProcess boots a small kernel and a process holding one of each
// kind of descriptor: 0-2 the console, 3 a regular file, 4 a directory,
// 5 and 6 a pipe's ends, 7 a file opened for appending; /tmp is a tmpfs.
func fuzzProcess(t *testing.T, d *abi.Descriptor) (*kern.Kernel, sp.Process) {
	cfg := kern.DefaultConfig()
	cfg.ABI = d
	cfg.Extensions = kern.ExtAll
	cfg.MaxOpenFiles = 16
	cfg.MaxFSBytes = 1 << 20
	cfg.MaxIO = 64 << 10
	k, err := kern.New(cfg)
	require.NoError(t, err)
	p, err := k.NewProcess(context.Background(), sp.ClientInfo{ABI: d})
	require.NoError(t, err)
	mem := newFlatMem(fuzzBase, make([]byte, 4096))
	put := func(off int, s string) uint64 {
		copy(mem.b[off:], s+"\x00")
		return fuzzBase + uint64(off)
	}
	run := func(num netbsd.Sysno, vals ...uint64) sp.Result {
		body, err := netbsd.LayoutsFor(d).Args(num).Encode(0, vals...)
		require.NoError(t, err)
		return p.Syscall(context.Background(), &sp.SyscallRequest{Num: num, Body: body, ABI: d, Mem: mem})
	}
	data := put(1024, strings.Repeat("fuzz", 100))
	args, err := netbsd.LayoutsFor(d).TmpfsArgs.Encode(&netbsd.TmpfsArgs{Version: 1, RootMode: 0o1777})
	require.NoError(t, err)
	copy(mem.b[2048:], args)
	require.Zero(t, run(netbsd.SYS___mount50, put(0, "tmpfs"), put(64, "/tmp"), 0, fuzzBase+2048, uint64(len(args))).Errno)
	require.Zero(t, run(netbsd.SYS_open, put(0, "/tmp/f"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644).Errno)
	require.Zero(t, run(netbsd.SYS_write, 3, data, 400).Errno)
	require.Zero(t, run(netbsd.SYS_open, put(0, "/tmp"), netbsd.O_RDONLY, 0).Errno)
	require.Zero(t, run(netbsd.SYS_pipe).Errno)
	require.Zero(t, run(netbsd.SYS_open, put(0, "/tmp/f"), netbsd.O_WRONLY|netbsd.O_APPEND, 0).Errno)
	require.Zero(t, run(netbsd.SYS_mkdir, put(0, "/tmp/d"), 0o755).Errno)
	require.Zero(t, run(netbsd.SYS_symlink, put(0, "f"), put(64, "/tmp/l")).Errno)
	return k, p
}

// seedArgs guesses plausible values for a syscall's arguments: pointers
// into the seed memory, descriptor 0, small counts.
func seedArgs(sc *netbsd.Syscall) []uint64 {
	var vals []uint64
	for _, a := range sc.Args {
		if a.Type == abi.Pad {
			continue
		}
		var v uint64
		switch {
		case a.Name == "fd":
			v = 3
		case a.Name == "path" || a.Name == "from" || a.Name == "link" || a.Name == "to":
			v = fuzzBase // "/tmp/f"
		case a.Name == "name":
			v = fuzzBase + 512 // sysctl MIB
		case a.Name == "oldlenp":
			v = fuzzBase + 528
		case a.Type.Base() == abi.BasePointer:
			v = fuzzBase + 1024
		case a.Name == "namelen":
			v = 2
		case a.Type.Base() == abi.BaseSizeT:
			v = 64
		case a.Name == "flags" && sc.Num == netbsd.SYS_mmap:
			v = netbsd.MAP_ANON
		}
		vals = append(vals, v)
	}
	return vals
}

// seedMemory is the client memory of the seeds, laid out for d: a path
// at 0, a sysctl MIB (kern.ostype) at 512, a size_t 64 at 528.
func seedMemory(d *abi.Descriptor) []byte {
	m := make([]byte, 2048)
	copy(m, "/tmp/f\x00")
	o := d.ByteOrder()
	o.PutUint32(m[512:], netbsd.CTL_KERN)
	o.PutUint32(m[516:], netbsd.KERN_OSTYPE)
	abi.PutUint(o, m[528:], d.SizeT.Size, 64)
	return m
}

// FuzzKernelSyscall drives one syscall with fuzzed number, argument
// bytes and client memory, decoded in a fuzzed ABI, against a process
// holding every kind of descriptor. The kernel must answer without
// panicking, within the context's time, with a NetBSD errno, and stay
// usable.
func FuzzKernelSyscall(f *testing.F) {
	for i, name := range fuzzABIs[:4] {
		d := abi.MustLookup(name)
		for _, sc := range netbsd.Syscalls() {
			body, err := netbsd.LayoutsFor(d).Args(sc.Num).Encode(0, seedArgs(sc)...)
			if err != nil {
				f.Fatalf("seed %s on %s: %v", sc.Name, name, err)
			}
			f.Add(uint32(sc.Num), uint8(i), body, seedMemory(d))
		}
	}
	block, _ := netbsd.LayoutsFor(abi.MustLookup("amd64")).Args(netbsd.SYS_read).Encode(0, 5, fuzzBase, 16)
	f.Add(uint32(netbsd.SYS_read), uint8(0), block, make([]byte, 16))          // blocks on the empty pipe
	f.Add(uint32(netbsd.SYS_write), uint8(1), []byte{3, 0, 0, 0}, []byte("x")) // short body
	f.Add(uint32(netbsd.SYS___sysctl), uint8(3), []byte{0, 0, 0x10, 0, 0xff, 0xff, 0xff, 0xff}, []byte{})
	f.Add(uint32(0xffffffff), uint8(5), []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, num uint32, abiIdx uint8, args, memory []byte) {
		d := abi.MustLookup(fuzzABIs[int(abiIdx)%len(fuzzABIs)])
		k, p := fuzzProcess(t, d)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		mem := newFlatMem(fuzzBase, append([]byte(nil), memory...))
		r := p.Syscall(ctx, &sp.SyscallRequest{Num: netbsd.Sysno(num), Body: args, ABI: d, Mem: mem})
		if r.Errno != 0 && strings.HasPrefix(r.Errno.String(), "Errno(") {
			t.Fatalf("%s answered %s, which NetBSD does not have", netbsd.Sysno(num), r.Errno)
		}
		after := p.Syscall(context.Background(), &sp.SyscallRequest{Num: netbsd.SYS_getpid, ABI: d, Mem: mem})
		require.Zero(t, after.Errno, "the process still works")
		p.Exit()
		require.Equal(t, 1, k.Processes(), "only pid 1 is left")
	})
}
