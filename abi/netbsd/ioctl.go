package netbsd

// An ioctl command encodes its argument's direction and size
// (sys/ioccom.h): the kernel copies IOCPARM_LEN bytes in before an IOC_IN
// command and out after a successful IOC_OUT one.
const (
	IOCPARM_MASK   = 0x1fff
	IOCPARM_SHIFT  = 16
	IOCGROUP_SHIFT = 8
	// IOCPARM_MAX bounds the argument size (NBPG on every port sprig
	// knows); a larger one is ENOTTY.
	IOCPARM_MAX = 4096
	IOC_VOID    = 0x20000000
	IOC_OUT     = 0x40000000
	IOC_IN      = 0x80000000
	IOC_INOUT   = IOC_IN | IOC_OUT
	IOC_DIRMASK = 0xe0000000
)

// IOC builds an ioctl command as _IOC does.
func IOC(inout uint32, group byte, num byte, size int) uint32 {
	return inout | uint32(size&IOCPARM_MASK)<<IOCPARM_SHIFT | uint32(group)<<IOCGROUP_SHIFT | uint32(num)
}

// IOCPARM_LEN is the argument size a command encodes.
func IOCPARM_LEN(cmd uint32) int { return int(cmd >> IOCPARM_SHIFT & IOCPARM_MASK) }

// The ioctl commands sprig's kernel knows. The sizes are NetBSD's on
// every machine: an int is 4 bytes, a struct termios 44.
const (
	FIOCLEX   = IOC_VOID | 'f'<<IOCGROUP_SHIFT | 1
	FIONCLEX  = IOC_VOID | 'f'<<IOCGROUP_SHIFT | 2
	FIONSPACE = IOC_OUT | 4<<IOCPARM_SHIFT | 'f'<<IOCGROUP_SHIFT | 120
	FIONWRITE = IOC_OUT | 4<<IOCPARM_SHIFT | 'f'<<IOCGROUP_SHIFT | 121
	FIOASYNC  = IOC_IN | 4<<IOCPARM_SHIFT | 'f'<<IOCGROUP_SHIFT | 125
	FIONBIO   = IOC_IN | 4<<IOCPARM_SHIFT | 'f'<<IOCGROUP_SHIFT | 126
	FIONREAD  = IOC_OUT | 4<<IOCPARM_SHIFT | 'f'<<IOCGROUP_SHIFT | 127
	TIOCGETA  = IOC_OUT | 44<<IOCPARM_SHIFT | 't'<<IOCGROUP_SHIFT | 19
)
