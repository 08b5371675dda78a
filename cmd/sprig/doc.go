// Command sprig is the command-line front end of the sprig module: tools
// for talking to NetBSD rump sysproxy servers across C ABIs.
//
// Usage:
//
//	sprig COMMAND [arguments]
//	sprig help [COMMAND [SUBCOMMAND]]
//	sprig COMMAND -h
//
// The commands are:
//
//	run --abi ABI [--server-abi ABI] [--mode MODE] [--scenario NAME ...] [--trace] ...
//	    run the guest scenarios of one client ABI against one server ABI
//	matrix [--abis ABI,...] [--modes MODE,...] [--format text|json|junit|markdown] ...
//	    run every ABI pair in every mode and check it against the prediction
//	matrix merge REPORT.json...
//	    join the JSON reports of matrix shards
//	serve [--url URL] [--abi ABI] [--ext kill,mmap] ...
//	    run a standalone server for outside clients: NetBSD's rump_server
//	    with no flags
//	proxy --listen URL --client-abi ABI --upstream URL [--server-abi ABI] [--trace] ...
//	    translate between sysproxy clients and a server of another ABI
//	bench [--server URL] [--calls N] [--runs K] [--format text|json] [--profile DIR] ...
//	    measure sysproxy round trips against the socket's floor
//	abi list [--format text|json]
//	    list the registered ABI descriptors
//	abi show ABI [--struct STRUCT | --syscall SYSCALL] [--format text|json]
//	    show a descriptor's scalar table and known structs and syscalls,
//	    the layout of a NetBSD struct, or a syscall's argument slots
//	abi layout FILE.h|--decl DECL [--struct NAME] [--abi LIST|all] [--format text|json]
//	    lay out the structs of C declarations on many ABIs side by side,
//	    marking what differs
//	abi diff ABI1 ABI2 [--struct NAME | --file FILE.h] [--format text|json]
//	    list what differs between two ABIs
//	version
//	    print the module version ("(devel)" without one)
//
// ABI is a descriptor name or alias, or the path of a descriptor file of
// any name (docs/abi-json.md; see abi.Resolve). Flags may come before or after
// positional arguments, with one dash or two; "--" ends the flags.
//
// # Exit status
//
//	0  success
//	1  failure: an unreadable or invalid descriptor file, a failed write
//	2  usage error: unknown command or flag, missing or extra argument,
//	   bad flag value, or an ABI, struct or syscall name that names
//	   nothing
//
// A syntax error prints the message and the command's synopsis to stderr;
// an unknown name prints the message, which lists the known names.
//
// # JSON output
//
// 'sprig abi list --format json' prints an array of abi.Descriptor in the
// descriptor file format (the Descriptor type's own JSON tags).
//
// 'sprig abi show ABI --format json' prints
//
//	{"abi": NAME, "descriptor": DESCRIPTOR,
//	 "scalars":  [{"type", "size", "align", "signed", "float"}],
//	 "structs":  [{"struct", "size", "align"}],
//	 "syscalls": [{"number", "name", "size"}]}
//
// 'sprig abi show ABI --struct STRUCT --format json' prints
//
//	{"abi": NAME, "struct": "struct stat", "size": N, "align": N,
//	 "fields":  [{"path": "st_atim.tv_sec", "offset", "size", "type"}],
//	 "padding": [{"offset", "size"}]}
//
// with one field per scalar leaf (an array of scalars is one field; a
// flexible array member has size 0) in memory order, and padding as
// abi.Layout.Padding reports it. 'sprig abi show ABI --syscall SYSCALL
// --format json' prints the same shape for "struct sys_NAME_args", each
// argument's datum being a field and every other byte padding, plus
//
//	"syscall": {"name", "number"},
//	"slots":   [{"name", "type", "offset", "size",
//	             "datum_offset", "datum_size", "pad"}]
//
// Sizes and offsets are in bytes. Keys are only ever added, never renamed
// or removed.
//
// # Adding a command
//
// Each command lives in its own file, which defines a doc (synopsis and
// help text), a constructor returning a *command, and a run function
// func(ctx, args, stdout, stderr) int; one line in commands() in cli.go
// adds it to the table that dispatch and help read. Leaf commands parse
// their flags with parseFlags and report problems with doc.usageError
// (exit 2) or doc.failure (exit 1).
package main
