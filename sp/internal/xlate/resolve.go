package xlate

import (
	"context"
	"fmt"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// resolve decides, for this call, the arguments whose pointee depends on
// another one (netbsd.PointsDepends), and rewrites what must change with
// them on the server's side (an ioctl command word encodes its
// argument's size).
func (s *Session) resolve(ctx context.Context, mem Memory, pl *plan, args, wire []uint64, rs []resolved) error {
	var sysctl *resolved // one MIB decides both oldv and newv
	for i, a := range pl.args {
		if a.pt.Points != netbsd.PointsDepends {
			continue
		}
		arg := func(name string) (int, error) {
			j, ok := pl.index[name]
			if !ok {
				return 0, refuse(pl.sc.Num, netbsd.ENOSYS, "%s has no argument %q to decide %s by", pl.sc.Name, name, a.name)
			}
			return j, nil
		}
		var r resolved
		var err error
		switch a.pt.Depends {
		case netbsd.DependsSysctl:
			if sysctl == nil {
				r, err = s.resolveSysctl(ctx, mem, pl, args, arg)
				sysctl = &r
			}
			r = *sysctl
		case netbsd.DependsIoctl:
			r, err = s.resolveIoctl(args, wire, arg)
		case netbsd.DependsFcntl:
			r, err = s.resolveFcntl(args, arg)
		case netbsd.DependsMount:
			r, err = s.resolveMount(ctx, mem, pl, args, arg)
		default:
			r = resolved{points: netbsd.PointsUnknown, why: "an unknown decider"}
		}
		if err != nil {
			return err
		}
		rs[i] = r
	}
	return nil
}

// sysctl values are typed by the MIB, read from the client's memory.
func (s *Session) resolveSysctl(ctx context.Context, mem Memory, pl *plan, args []uint64, arg func(string) (int, error)) (resolved, error) {
	ni, err := arg("name")
	if err != nil {
		return resolved{}, err
	}
	li, err := arg("namelen")
	if err != nil {
		return resolved{}, err
	}
	n := args[li]
	if n < 1 || n > netbsd.CTL_MAXNAME || args[ni] == 0 {
		// The kernel refuses such a name before it touches a value.
		return resolved{points: netbsd.PointsBytes}, nil
	}
	is := s.p.Client.Int.Size
	b, err := mem.CopyIn(ctx, args[ni], int(n)*is)
	if err != nil {
		return resolved{}, refuse(pl.sc.Num, netbsd.EFAULT, "reading the sysctl MIB: %v", err)
	}
	mib := make([]int32, n)
	for i := range mib {
		mib[i] = int32(abi.Uint(s.p.Client.ByteOrder(), b[i*is:], is))
	}
	node := netbsd.LookupSysctl(mib)
	switch {
	case node == nil:
		return resolved{points: netbsd.PointsUnknown, why: fmt.Sprintf("the value of sysctl %v, whose type sprig does not know", mib)}, nil
	case node.String:
		return resolved{points: netbsd.PointsBytes}, nil
	}
	return resolved{points: netbsd.PointsData, el: s.p.elem(node.Elem)}, nil
}

// ioctl's data is typed by the command word, which also changes with the
// argument's size.
func (s *Session) resolveIoctl(args, wire []uint64, arg func(string) (int, error)) (resolved, error) {
	ci, err := arg("com")
	if err != nil {
		return resolved{}, err
	}
	com := uint32(args[ci])
	cmd := netbsd.LookupIoctl(s.p.Client, com)
	if cmd == nil {
		if com&netbsd.IOC_DIRMASK == netbsd.IOC_VOID {
			return resolved{points: netbsd.PointsValue}, nil // no argument to translate
		}
		return resolved{points: netbsd.PointsUnknown, why: fmt.Sprintf("the argument of ioctl command %#x, which sprig does not describe", com)}, nil
	}
	t, ok := cmd.ArgType()
	if !ok {
		return resolved{points: netbsd.PointsUnknown, why: fmt.Sprintf("%s's %s, which sprig does not describe", cmd.Name, cmd.Arg)}, nil
	}
	wcom, _ := cmd.Com(s.p.Server)
	wire[ci] = uint64(wcom)
	if t == nil {
		return resolved{points: netbsd.PointsValue}, nil
	}
	return resolved{points: netbsd.PointsData, el: s.p.elem(t), count: 1}, nil
}

// fcntl's arg is a plain int for most commands.
func (s *Session) resolveFcntl(args []uint64, arg func(string) (int, error)) (resolved, error) {
	ci, err := arg("cmd")
	if err != nil {
		return resolved{}, err
	}
	if cmd := int32(args[ci]); !netbsd.FcntlArgIsValue(cmd) {
		return resolved{points: netbsd.PointsUnknown, why: fmt.Sprintf("the argument of fcntl command %d, which sprig does not describe", cmd)}, nil
	}
	return resolved{points: netbsd.PointsValue}, nil
}

// mfsNameLen bounds a file system type name (MFSNAMELEN).
const mfsNameLen = 32

// __mount50's data is typed by the file system type, read from the
// client's memory.
func (s *Session) resolveMount(ctx context.Context, mem Memory, pl *plan, args []uint64, arg func(string) (int, error)) (resolved, error) {
	ti, err := arg("type")
	if err != nil {
		return resolved{}, err
	}
	fstype, err := mem.CopyInStr(ctx, args[ti], mfsNameLen)
	if err != nil {
		return resolved{}, refuse(pl.sc.Num, netbsd.EFAULT, "reading the file system type: %v", err)
	}
	t := netbsd.MountArgs(fstype)
	if t == nil {
		return resolved{points: netbsd.PointsUnknown, why: fmt.Sprintf("the mount data of file system %q, which sprig does not describe", fstype)}, nil
	}
	return resolved{points: netbsd.PointsData, el: s.p.elem(t), count: 1}, nil
}
