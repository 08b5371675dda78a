package matrix

import (
	"errors"
	"fmt"
	"github.com/rumpsprig/sprig/rig"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
)

// DefaultABINames are the ABIs a matrix covers unless told otherwise:
// every built-in one.
var DefaultABINames = []string{"amd64", "i386", "arm64", "aarch64eb", "arm", "mips", "powerpc", "sparc64", "riscv64"}

// Config says which cells a matrix covers and how to run them. Start from
// DefaultConfig.
type Config struct {
	// ABIs are the client and server ABIs; every ordered pair, a pair of
	// one ABI with itself included, is a cell in every mode.
	ABIs []*abi.Descriptor
	// Modes are the cross-ABI modes to run; against Server, empty is the
	// modes that server can take (see ResolveServer).
	Modes []rig.Mode
	// Scenarios to run in every cell, by manifest name; empty is every
	// selectable scenario.
	Scenarios []string
	// Shard, when not zero, restricts the run to one slice of the cells.
	Shard Shard
	// Workers is how many cells run at once; zero is DefaultWorkers().
	Workers int
	// Timeout bounds each scenario; zero is rig's default.
	Timeout time.Duration
	// Server, when set, is the URL of an outside sysproxy server (NetBSD's
	// rump_server, another sprig serve, anyone's): every client ABI runs
	// against it in every mode instead of against in-process servers of
	// every ABI, a single column of the matrix.
	Server string
	// ServerABI is the outside server's ABI; nil reads it from the
	// server's banner when the run starts (rig.ServerABI).
	ServerABI *abi.Descriptor
	// Destructive also runs the scenarios that can harm a real server
	// against Server (they always run in-process).
	Destructive bool
	// serverResolved: ResolveServer has read Server's banner.
	serverResolved bool
	// Emulated, when not nil, adds the emulated column: sprig's client
	// programs built for real machines run in every cell they cover.
	Emulated *Emulation
	// SprigVersion goes into reports.
	SprigVersion string
	// Progress, when set, is called after each cell finishes, from one
	// goroutine at a time.
	Progress func(Progress)
}

// Progress is what a Progress callback learns after each cell.
type Progress struct {
	Done, Total   int
	Cell          *Cell
	Disagreements int // so far, in all finished cells
	Errors        int // so far, in all finished cells
}

// DefaultModes are the modes a matrix covers unless told otherwise:
// native and the two in which client or server translates. The proxy
// mode is one flag away (--modes proxy, or all four).
func DefaultModes() []rig.Mode {
	return []rig.Mode{rig.ModeNative, rig.ModeServerTranslates, rig.ModeClientTranslates}
}

// DefaultConfig covers DefaultABINames in every mode with every scenario.
func DefaultConfig() Config {
	c := Config{Modes: DefaultModes()}
	for _, n := range DefaultABINames {
		c.ABIs = append(c.ABIs, abi.MustLookup(n))
	}
	return c
}

// DefaultWorkers is how many cells run at once by default: four per
// CPU, at most 32. A cell partly waits rather than computes (each syscall
// is a socket round trip to the in-process server), so more cells than
// CPUs keep the machine busy; each running cell holds about 30 MB, hence
// the cap. On a 2-core VM the default matrix (243 cells) took 25-28 s
// wall, 45-51 s of CPU and 355 MB at most with the default 8 workers
// (measured 2026-12-01); the guests' own compute is most of it.
func DefaultWorkers() int { return min(4*runtime.NumCPU(), 32) }

// Validate checks the configuration and returns an error naming the
// first bad field.
func (c *Config) Validate() error {
	switch {
	case len(c.ABIs) == 0:
		return errors.New("matrix: config: no ABIs")
	case len(c.Modes) == 0 && c.Server == "":
		return errors.New("matrix: config: no modes")
	case c.Workers < 0:
		return fmt.Errorf("matrix: config: Workers is %d", c.Workers)
	case c.Timeout < 0:
		return fmt.Errorf("matrix: config: Timeout is %v", c.Timeout)
	}
	seen := map[string]bool{}
	for _, d := range c.ABIs {
		if seen[d.Name] {
			return fmt.Errorf("matrix: config: ABI %s twice", d.Name)
		}
		seen[d.Name] = true
	}
	modes := map[rig.Mode]bool{}
	for _, m := range c.Modes {
		if m > rig.ModeProxy || modes[m] {
			return fmt.Errorf("matrix: config: mode %s is unknown or given twice", m)
		}
		modes[m] = true
	}
	names := map[string]bool{}
	for _, n := range c.Scenarios {
		s, ok := guestapi.LookupScenario(n)
		switch {
		case !ok:
			return fmt.Errorf("matrix: config: %w %q; known: %s", ErrUnknownScenario, n, strings.Join(guestapi.ScenarioNames(), ", "))
		case s.ChildOnly:
			return fmt.Errorf("matrix: config: scenario %q runs only as part of its parent", n)
		case names[n]:
			return fmt.Errorf("matrix: config: scenario %q twice", n)
		}
		names[n] = true
	}
	if c.Server != "" {
		if _, err := sp.ParseURL(c.Server); err != nil {
			return fmt.Errorf("matrix: config: Server: %w", err)
		}
	}
	if c.Emulated != nil {
		if _, err := c.Emulated.targets(c.abiNames()); err != nil {
			return fmt.Errorf("matrix: config: %w", err)
		}
	}
	if c.Shard != (Shard{}) {
		if err := c.Shard.validate(); err != nil {
			return fmt.Errorf("matrix: config: %w", err)
		}
	}
	return nil
}

// ErrUnknownScenario is returned for a scenario name the manifest lacks.
var ErrUnknownScenario = errors.New("unknown scenario")

// scenarioNames returns the scenarios a cell runs, in report order:
// against an outside server, none that could harm it unless Destructive.
func (c *Config) scenarioNames() []string {
	if len(c.Scenarios) == 0 {
		if c.Server != "" {
			return rig.DefaultScenarios(!c.Destructive)
		}
		return guestapi.ScenarioNames()
	}
	want := map[string]bool{}
	for _, n := range c.Scenarios {
		want[n] = true
	}
	var out []string
	for _, n := range guestapi.ScenarioNames() {
		if want[n] {
			out = append(out, n)
		}
	}
	return out
}

// CellKey names one cell: a client ABI, a server ABI and a mode.
type CellKey struct {
	Mode   rig.Mode
	Client *abi.Descriptor
	Server *abi.Descriptor
}

func (k CellKey) String() string {
	return fmt.Sprintf("%s %s→%s", k.Mode, k.Client.Name, k.Server.Name)
}

// Cells returns every cell of the configuration (ignoring the shard) in
// the canonical order: by mode, then client, then server, each in the
// configuration's order.
func (c *Config) Cells() []CellKey {
	var out []CellKey
	for _, m := range c.Modes {
		for _, cl := range c.ABIs {
			for _, sv := range c.servers() {
				out = append(out, CellKey{Mode: m, Client: cl, Server: sv})
			}
		}
	}
	return out
}

// ShardCells returns the cells this configuration's shard runs: all of
// them without a shard.
func (c *Config) ShardCells() []CellKey {
	all := c.Cells()
	if c.Shard == (Shard{}) {
		return all
	}
	return c.Shard.Select(all)
}

// Shard is one slice of a matrix, for running it on several machines:
// shard Index of Count (1 ≤ Index ≤ Count) takes every Count-th cell of
// the canonical order starting with cell Index. Dealing cells out in turn
// spreads the slow and the quick ones evenly; every cell is in exactly
// one shard, and which one depends only on the configuration.
type Shard struct {
	Index, Count int
}

// ParseShard reads "I/N".
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want I/N, such as 2/8", s)
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N with whole numbers, such as 2/8", s)
	}
	sh := Shard{Index: i, Count: n}
	if err := sh.validate(); err != nil {
		return Shard{}, err
	}
	return sh, nil
}

func (s Shard) validate() error {
	if s.Count < 1 || s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("shard %d/%d: want 1 ≤ I ≤ N", s.Index, s.Count)
	}
	return nil
}

func (s Shard) String() string {
	if s == (Shard{}) {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Select returns the cells of all that belong to s.
func (s Shard) Select(all []CellKey) []CellKey {
	var out []CellKey
	for i := s.Index - 1; i < len(all); i += s.Count {
		out = append(out, all[i])
	}
	return out
}

// Shards returns the n shards of a matrix, in order.
func Shards(n int) []Shard {
	out := make([]Shard, n)
	for i := range out {
		out[i] = Shard{Index: i + 1, Count: n}
	}
	return out
}

// servers are the configuration's server ABIs: every ABI, or the outside
// server's alone. (An outside server whose ABI is not known yet stands
// as a placeholder until Run reads its banner.)
func (c *Config) servers() []*abi.Descriptor {
	if c.Server == "" {
		return c.ABIs
	}
	if c.ServerABI == nil {
		return []*abi.Descriptor{{Name: "(from the banner)"}}
	}
	return []*abi.Descriptor{c.ServerABI}
}

// serverNames are the report's columns when they are not the ABIs.
func (c *Config) serverNames() []string {
	if c.Server == "" {
		return nil
	}
	var out []string
	for _, d := range c.servers() {
		out = append(out, d.Name)
	}
	return out
}

// modeNames and abiNames give the configuration's names for a report.
func (c *Config) modeNames() []string {
	out := make([]string, len(c.Modes))
	for i, m := range c.Modes {
		out[i] = m.String()
	}
	return out
}

func (c *Config) abiNames() []string {
	out := make([]string, len(c.ABIs))
	for i, d := range c.ABIs {
		out[i] = d.Name
	}
	return out
}

// indexOf returns where name is in names, or len(names).
func indexOf(names []string, name string) int {
	if i := slices.Index(names, name); i >= 0 {
		return i
	}
	return len(names)
}
