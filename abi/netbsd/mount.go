package netbsd

import "github.com/rumpsprig/sprig/abi"

// MOUNT_TMPFS is the file-system type name __mount50 takes for tmpfs.
const MOUNT_TMPFS = "tmpfs"

// TMPFS_ARGS_VERSION is the ta_version of the struct tmpfs_args layout
// below (fs/tmpfs/tmpfs_args.h).
const TMPFS_ARGS_VERSION = 1

// TmpfsArgsType is struct tmpfs_args, the data of a tmpfs __mount50
// (fs/tmpfs/tmpfs_args.h). Its 64-bit members make it 40 bytes on LP64
// and on 32-bit ABIs that align them to 8, and 32 bytes on i386.
var TmpfsArgsType = abi.Struct("tmpfs_args",
	abi.F("ta_version", abi.Int),
	abi.F("ta_nodes_max", InoT),
	abi.F("ta_size_max", OffT),
	abi.F("ta_root_uid", UidT),
	abi.F("ta_root_gid", GidT),
	abi.F("ta_root_mode", ModeT),
)

// TmpfsArgs carries a struct tmpfs_args.
type TmpfsArgs struct {
	Version  int32  `abi:"ta_version"`
	NodesMax uint64 `abi:"ta_nodes_max"`
	SizeMax  int64  `abi:"ta_size_max"`
	RootUID  uint32 `abi:"ta_root_uid"`
	RootGID  uint32 `abi:"ta_root_gid"`
	RootMode uint32 `abi:"ta_root_mode"`
}
