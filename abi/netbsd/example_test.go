package netbsd_test

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// struct stat differs between machines: 124 bytes on i386, 152 elsewhere,
// with the timespecs moving accordingly.
func ExampleLayoutsFor() {
	for _, name := range []string{"i386", "arm", "amd64"} {
		l := netbsd.LayoutsFor(abi.MustLookup(name))
		fmt.Printf("%-5s stat %d timespec %d st_atim.tv_nsec@%d st_size@%d\n", name,
			l.Stat.Size, l.Timespec.Size, l.Stat.Offset("st_atim.tv_nsec"), l.Stat.Offset("st_size"))
	}
	// Output:
	// i386  stat 124 timespec 12 st_atim.tv_nsec@48 st_size@88
	// arm   stat 152 timespec 16 st_atim.tv_nsec@56 st_size@112
	// amd64 stat 152 timespec 16 st_atim.tv_nsec@56 st_size@112
}

// Encode a struct stat as a big-endian mips server would copy it out, and
// read it back.
func ExampleStat() {
	l := netbsd.LayoutsFor(abi.MustLookup("mips")).Stat
	st := netbsd.Stat{Mode: netbsd.S_IFDIR | 0o755, Nlink: 2, Size: 512,
		Mtim: netbsd.Timespec{Sec: 1700000000, Nsec: 5}}
	b, err := l.Encode(st)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(b))
	fmt.Printf("st_mode % x\n", b[l.Offset("st_mode"):][:4])
	fmt.Printf("st_mtim % x\n", b[l.Offset("st_mtim"):][:16])

	var back netbsd.Stat
	if err := l.Decode(b, &back); err != nil {
		panic(err)
	}
	fmt.Println(netbsd.FileTypeString(back.Mode), back.Nlink, back.Size, back.Mtim.Sec, back.Mtim.Nsec)
	// Output:
	// 152
	// st_mode 00 00 41 ed
	// st_mtim 00 00 00 00 65 53 f1 00 00 00 00 05 00 00 00 00
	// S_IFDIR 2 512 1700000000 5
}

// lseek's argument struct: the PAD slot keeps off_t 8-aligned, which makes
// the struct 20 bytes on i386 and 24 on arm.
func ExampleLayouts_Args() {
	for _, name := range []string{"i386", "arm", "amd64"} {
		a := netbsd.LayoutsFor(abi.MustLookup(name)).Args(netbsd.SYS_lseek)
		fmt.Printf("%-5s size %d:", name, a.Size)
		for _, s := range a.Slots {
			fmt.Printf(" %s@%d", s.Name, s.Offset)
		}
		fmt.Println()
	}
	b, err := netbsd.LayoutsFor(abi.MustLookup("arm")).Args(netbsd.SYS_lseek).Encode(0, 3, 100, netbsd.SEEK_SET)
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)
	// Output:
	// i386  size 20: fd@0 PAD@4 offset@8 whence@16
	// arm   size 24: fd@0 PAD@4 offset@8 whence@16
	// amd64 size 32: fd@0 PAD@8 offset@16 whence@24
	// 03 00 00 00 00 00 00 00 64 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
}
