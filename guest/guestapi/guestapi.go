// Package guestapi holds the data a sprig host and its WebAssembly guests
// exchange as JSON through the "sprig" host module: the run configuration
// a guest asks for, and the scenario results it reports. Both sides import
// it, so the shapes cannot drift apart. guest/README.md documents the host
// functions that carry them.
package guestapi

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi"
)

// ModuleName is the import module of sprig's host functions.
const ModuleName = "sprig"

// Role says what a guest instance is for.
type Role string

// Roles.
const (
	// RoleMain runs scenarios.
	RoleMain Role = "main"
	// RoleForkChild is a second instance started by the fork scenario: it
	// claims a preforked process with Cookie and checks what it inherited.
	RoleForkChild Role = "fork-child"
	// RoleBench measures instead of checking (sprig bench): it runs
	// Bench's operations and reports one Result per operation, with
	// Result.Bench set.
	RoleBench Role = "bench"
)

// Config is what a guest reads with the host function config.
type Config struct {
	Role Role `json:"role"`
	// URL is the server to dial.
	URL string `json:"url"`
	// ABI is the guest's own ABI: a built-in or a user descriptor.
	ABI *abi.Descriptor `json:"abi"`
	// ServerABI, when set, is the server's ABI for client-translates mode
	// (otherwise the banner decides).
	ServerABI *abi.Descriptor `json:"server_abi,omitempty"`
	// Mode is native, server-translates or client-translates.
	Mode string `json:"mode"`
	// Version is "0.1" or "0.4"; empty follows the banner.
	Version string `json:"version,omitempty"`
	// Scenarios to run, by name; empty runs all.
	Scenarios []string `json:"scenarios,omitempty"`
	// AddressBias is added to every linear-memory address the guest puts
	// on the wire when the wire pointer is 8 bytes wide, so truncation to
	// 32 bits anywhere shows up.
	AddressBias uint64 `json:"address_bias"`
	// TimeoutMillis bounds each scenario.
	TimeoutMillis int `json:"timeout_ms"`
	// Fork carries what a fork child needs.
	Fork *ForkChild `json:"fork,omitempty"`
	// Bench says what a RoleBench guest measures.
	Bench *BenchConfig `json:"bench,omitempty"`
}

// BenchConfig is what a RoleBench guest measures: each of Ops its Warmup
// times untimed, then Blocks (at least one) blocks, each of which runs
// every operation its Iterations times in the order given and reports
// each as it ends. The host may take its time answering a report, to
// interleave other measurements with the guest's blocks: the guest's
// timing leaves that wait out (its deadline, twice a scenario's timeout
// per operation, does not).
type BenchConfig struct {
	Ops    []BenchOp `json:"ops"`
	Blocks int       `json:"blocks,omitempty"`
	// Preload makes the client send what a syscall copies in with it,
	// where the server offers that (sp.ClientConfig.Preload).
	Preload bool `json:"preload,omitempty"`
}

// BenchOp is one operation a RoleBench guest measures, named as in
// scenario.BenchOps, and how many runs of it a block times (Iterations)
// after how many untimed ones (Warmup).
type BenchOp struct {
	Name       string `json:"name"`
	Iterations int    `json:"iterations"`
	Warmup     int    `json:"warmup"`
}

// BenchSample is one measured block of an operation: Iterations runs took
// Nanos in all, by the guest's own monotonic clock.
type BenchSample struct {
	Op         string `json:"op"`
	Block      int    `json:"block"`
	Iterations int    `json:"iterations"`
	Nanos      int64  `json:"ns"`
}

// ForkChild is the fork scenario's hand-over to the child instance.
type ForkChild struct {
	Cookie  []byte `json:"cookie"`
	ReadFD  int    `json:"read_fd"`
	Message string `json:"message"`
}

// Status is how a scenario ended.
type Status string

// Scenario outcomes: the first three come from the scenario itself,
// Error from its environment.
const (
	// Pass: every check held.
	Pass Status = "pass"
	// Fail: a check did not hold; Layer and Detail say where and why.
	Fail Status = "fail"
	// Unsupported: the server lacks what the scenario needs (ENOSYS, a
	// file system without rename); Detail says what.
	Unsupported Status = "unsupported"
	// Error: the scenario could not be judged because of where it ran,
	// not what the server answered: the run's deadline passed, the run
	// was cancelled, the guest could not start. An error says nothing
	// about the server or sprig's prediction.
	Error Status = "error"
)

// Layer says where a failed scenario broke.
type Layer string

// Failure layers, from the wire up.
const (
	LayerFraming    Layer = "framing"        // frames could not be read or written
	LayerDecoding   Layer = "reply decoding" // a reply body had the wrong shape
	LayerData       Layer = "data"           // values arrived but were wrong
	LayerTimeout    Layer = "timeout"
	LayerDisconnect Layer = "disconnect"
	// LayerCrash: the client did what NetBSD's C client would have
	// crashed doing (dereferenced an address it misread); a C client
	// under emulation really dies with a signal.
	LayerCrash Layer = "crash"
	LayerGuest Layer = "guest" // the guest itself failed (a bug, a panic)
)

// Result is one scenario's outcome, reported with the host function
// report.
type Result struct {
	Scenario string `json:"scenario"`
	Status   Status `json:"status"`
	Layer    Layer  `json:"layer,omitempty"`
	// Detail is a human explanation of a failure or why a scenario is
	// unsupported.
	Detail string `json:"detail,omitempty"`
	// Field, for data failures, names the first wrong value.
	Field *FieldMismatch `json:"field,omitempty"`
	// Checks counts the values the scenario verified.
	Checks int `json:"checks"`
	// Millis is how long the scenario took.
	Millis float64 `json:"ms"`
	// Syscalls are the numbers of the syscalls the scenario sent, each
	// once, in ascending order; the manifest says which to expect.
	Syscalls []uint32 `json:"syscalls,omitempty"`
	// Trace, for a failure, is the client's view of the last syscalls
	// before it, strace style (package sp/strace), oldest first.
	Trace []string `json:"trace,omitempty"`
	// Bench is a RoleBench guest's measurement.
	Bench *BenchSample `json:"bench,omitempty"`
}

// FieldMismatch is the first wrong value a scenario found.
type FieldMismatch struct {
	// Struct is the C struct ("stat", "rsp_sysresp"), empty for a plain
	// value such as a return word.
	Struct string `json:"struct,omitempty"`
	// Path is the member ("st_size") or value name ("retval[0]").
	Path string `json:"path"`
	// Call names the syscall whose result held the value, when known.
	Call     string `json:"call,omitempty"`
	Expected string `json:"expected"`
	Got      string `json:"got"`
	// ClientOffset and ClientSize place the member in the client's
	// layout; ClientStructSize is the client's sizeof the struct.
	ClientOffset     int `json:"client_offset"`
	ClientSize       int `json:"client_size"`
	ClientStructSize int `json:"client_struct_size"`
}

// Errno is a negative host-function result. The numbers are sprig's own
// (they happen to be Linux's) and mean the same on every host; a guest
// must not compare them with its own syscall package, whose numbering
// differs under WASI.
type Errno int32

// Host-function error numbers.
const (
	EINTR        Errno = 4
	EBADF        Errno = 9
	ECHILD       Errno = 10
	EAGAIN       Errno = 11
	EFAULT       Errno = 14
	EINVAL       Errno = 22
	EMFILE       Errno = 24
	EPIPE        Errno = 32
	ECONNRESET   Errno = 104
	ECONNREFUSED Errno = 111
)

var errnoNames = map[Errno]string{
	EINTR: "EINTR", EBADF: "EBADF", ECHILD: "ECHILD", EAGAIN: "EAGAIN", EFAULT: "EFAULT",
	EINVAL: "EINVAL", EMFILE: "EMFILE", EPIPE: "EPIPE", ECONNRESET: "ECONNRESET",
	ECONNREFUSED: "ECONNREFUSED",
}

func (e Errno) Error() string {
	if n, ok := errnoNames[e]; ok {
		return "host: " + n
	}
	return fmt.Sprintf("host: errno %d", int32(e))
}
