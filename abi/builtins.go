package abi

// The built-in descriptors. Every number here is checked by the tests
// against tables compiled by the Compiler named in each entry; register_t
// and its signedness are NetBSD's own typedefs for the machine. long
// double is NetBSD's: on powerpc that is 64 bits, as GCC's default for
// NetBSD (Debian's Linux compiler defaults to 128, hence
// -mlong-double-64). __int128 exists on the 64-bit ABIs only; _Bool is
// {1, 1} everywhere (the zero Bool). ARM's AAPCS and AArch64's AAPCS64
// let unnamed bit-fields align the struct.

func s(size, align int) Scalar { return Scalar{Size: size, Align: align} }

func builtins() []*Descriptor {
	return []*Descriptor{
		{
			Name: "amd64", Aliases: []string{"x86_64", "x86-64"},
			Machine: "amd64", MachineArch: "x86_64", Endian: LittleEndian,
			Char: s(1, 1), Short: s(2, 2), Int: s(4, 4), Long: s(8, 8), LongLong: s(8, 8),
			Pointer: s(8, 8), SizeT: s(8, 8), RegisterT: s(8, 8), Float: s(4, 4), Double: s(8, 8),
			LongDouble: s(16, 16), Int128: s(16, 16),
			CharSigned: true, RegisterTSigned: true,
			Compiler: []string{"gcc"},
			Note:     "x86-64 LP64, little-endian",
		},
		{
			Name: "i386", Aliases: []string{"386", "i686", "x86"},
			Machine: "i386", MachineArch: "i386", Endian: LittleEndian,
			Char: s(1, 1), Short: s(2, 2), Int: s(4, 4), Long: s(4, 4), LongLong: s(8, 4),
			Pointer: s(4, 4), SizeT: s(4, 4), RegisterT: s(4, 4), Float: s(4, 4), Double: s(8, 4),
			LongDouble: s(12, 4),
			CharSigned: true, RegisterTSigned: true,
			Compiler: []string{"i686-linux-gnu-gcc"},
			Note:     "x86 ILP32; 64-bit integers and doubles 4-aligned inside structs",
		},
		{
			Name: "arm64", Aliases: []string{"aarch64"},
			Machine: "evbarm64", MachineArch: "aarch64", Endian: LittleEndian,
			Char: s(1, 1), Short: s(2, 2), Int: s(4, 4), Long: s(8, 8), LongLong: s(8, 8),
			Pointer: s(8, 8), SizeT: s(8, 8), RegisterT: s(8, 8), Float: s(4, 4), Double: s(8, 8),
			LongDouble: s(16, 16), Int128: s(16, 16),
			CharSigned: false, RegisterTSigned: false, UnnamedBitFieldsAlign: true,
			Compiler: []string{"aarch64-linux-gnu-gcc"},
			Note:     "AArch64 LP64, little-endian; unsigned char and register_t",
		},
		{
			Name: "aarch64eb", Aliases: []string{"arm64eb", "arm64be", "aarch64_be"},
			Machine: "evbarm64", MachineArch: "aarch64eb", Endian: BigEndian,
			Char: s(1, 1), Short: s(2, 2), Int: s(4, 4), Long: s(8, 8), LongLong: s(8, 8),
			Pointer: s(8, 8), SizeT: s(8, 8), RegisterT: s(8, 8), Float: s(4, 4), Double: s(8, 8),
			LongDouble: s(16, 16), Int128: s(16, 16),
			CharSigned: false, RegisterTSigned: false, UnnamedBitFieldsAlign: true,
			Compiler: []string{"aarch64-linux-gnu-gcc", "-mbig-endian"},
			Note:     "AArch64 LP64, big-endian",
		},
		{
			Name: "arm", Aliases: []string{"earmv7hf", "armv7", "armhf"},
			Machine: "evbarm", MachineArch: "earmv7hf", Endian: LittleEndian,
			Char: s(1, 1), Short: s(2, 2), Int: s(4, 4), Long: s(4, 4), LongLong: s(8, 8),
			Pointer: s(4, 4), SizeT: s(4, 4), RegisterT: s(4, 4), Float: s(4, 4), Double: s(8, 8),
			LongDouble: s(8, 8),
			CharSigned: false, RegisterTSigned: true, UnnamedBitFieldsAlign: true,
			Compiler: []string{"arm-linux-gnueabihf-gcc"},
			Note:     "ARM EABI ILP32 hard-float; 64-bit integers 8-aligned",
		},
		{
			Name: "mips", Aliases: []string{"mipseb", "mips32"},
			Machine: "evbmips", MachineArch: "mipseb", Endian: BigEndian,
			Char: s(1, 1), Short: s(2, 2), Int: s(4, 4), Long: s(4, 4), LongLong: s(8, 8),
			Pointer: s(4, 4), SizeT: s(4, 4), RegisterT: s(4, 4), Float: s(4, 4), Double: s(8, 8),
			LongDouble: s(8, 8),
			CharSigned: true, RegisterTSigned: true,
			Compiler: []string{"mips-linux-gnu-gcc", "-mabi=32"},
			Note:     "MIPS o32 ILP32, big-endian",
		},
		{
			Name: "powerpc", Aliases: []string{"ppc", "powerpc32"},
			Machine: "evbppc", MachineArch: "powerpc", Endian: BigEndian,
			Char: s(1, 1), Short: s(2, 2), Int: s(4, 4), Long: s(4, 4), LongLong: s(8, 8),
			Pointer: s(4, 4), SizeT: s(4, 4), RegisterT: s(4, 4), Float: s(4, 4), Double: s(8, 8),
			LongDouble: s(8, 8),
			CharSigned: false, RegisterTSigned: false,
			Compiler: []string{"powerpc-linux-gnu-gcc", "-mlong-double-64"},
			Note:     "32-bit PowerPC ILP32, big-endian; unsigned char and register_t",
		},
		{
			Name: "sparc64", Aliases: []string{"sparcv9"},
			Machine: "sparc64", MachineArch: "sparc64", Endian: BigEndian,
			Char: s(1, 1), Short: s(2, 2), Int: s(4, 4), Long: s(8, 8), LongLong: s(8, 8),
			Pointer: s(8, 8), SizeT: s(8, 8), RegisterT: s(8, 8), Float: s(4, 4), Double: s(8, 8),
			LongDouble: s(16, 16), Int128: s(16, 16),
			CharSigned: true, RegisterTSigned: false,
			Compiler: []string{"sparc64-linux-gnu-gcc"},
			Note:     "SPARC V9 LP64, big-endian; unsigned register_t",
		},
		{
			Name: "riscv64", Aliases: []string{"riscv", "rv64"},
			Machine: "riscv", MachineArch: "riscv64", Endian: LittleEndian,
			Char: s(1, 1), Short: s(2, 2), Int: s(4, 4), Long: s(8, 8), LongLong: s(8, 8),
			Pointer: s(8, 8), SizeT: s(8, 8), RegisterT: s(8, 8), Float: s(4, 4), Double: s(8, 8),
			LongDouble: s(16, 16), Int128: s(16, 16),
			CharSigned: false, RegisterTSigned: true,
			Compiler: []string{"riscv64-linux-gnu-gcc"},
			Note:     "RISC-V RV64 LP64, little-endian; unsigned char",
		},
	}
}
