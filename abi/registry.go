package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrUnknownABI is returned by Lookup for a name no descriptor answers to.
var ErrUnknownABI = errors.New("unknown ABI")

// ErrShadowsBuiltin is returned for a user descriptor whose name or alias
// is one of a built-in descriptor's while its content differs: every
// message would name two different ABIs the same way.
var ErrShadowsBuiltin = errors.New("shadows a built-in ABI")

var (
	regMu    sync.RWMutex
	registry []*Descriptor // private copies; never handed out
	nBuiltin int
)

func init() {
	for _, d := range builtins() {
		if err := Register(d); err != nil {
			panic(err)
		}
	}
	nBuiltin = len(registry)
}

// Register validates d and makes a copy of it available to Lookup and All
// under its name and aliases, exactly like a built-in descriptor. A name
// already taken is an error. Changing d afterwards does not change the
// registered copy.
func Register(d *Descriptor) error {
	if err := d.Validate(); err != nil {
		return err
	}
	regMu.Lock()
	defer regMu.Unlock()
	for _, n := range d.Names() {
		if old := lookupLocked(n); old != nil {
			return fmt.Errorf("abi: name %q of %s is already used by %s", n, d.Name, old.Name)
		}
	}
	registry = append(registry, d.Clone())
	return nil
}

func lookupLocked(name string) *Descriptor {
	for _, d := range registry {
		for _, n := range d.Names() {
			if strings.EqualFold(n, name) {
				return d
			}
		}
	}
	return nil
}

// Lookup returns a copy of the descriptor whose name or alias is name
// (case does not matter). The error for an unknown name lists the known
// ones.
func Lookup(name string) (*Descriptor, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	if d := lookupLocked(name); d != nil {
		return d.Clone(), nil
	}
	return nil, fmt.Errorf("abi: %w %q; known: %s", ErrUnknownABI, name, strings.Join(namesLocked(), ", "))
}

// MustLookup is Lookup for names known to exist; it panics otherwise.
func MustLookup(name string) *Descriptor {
	d, err := Lookup(name)
	if err != nil {
		panic(err)
	}
	return d
}

// Resolve accepts what a user types for an ABI: a registered name or
// alias, or the path of a descriptor file of any name. An argument that
// contains a path separator or ends in .json is always a path; any other
// is a name when one matches and a path otherwise (write ./mips for a
// file called mips). A file is read with Load, so a descriptor that
// shadows a built-in one is refused.
func Resolve(nameOrPath string) (*Descriptor, error) {
	if looksLikePath(nameOrPath) {
		return Load(nameOrPath)
	}
	d, err := Lookup(nameOrPath)
	if err == nil {
		return d, nil
	}
	if _, serr := os.Stat(nameOrPath); serr == nil {
		return Load(nameOrPath)
	}
	return nil, fmt.Errorf("%w (and no descriptor file is called that)", err)
}

func looksLikePath(s string) bool {
	return strings.ContainsRune(s, os.PathSeparator) || strings.ContainsRune(s, '/') || strings.HasSuffix(s, ".json")
}

// Names returns the canonical names of all registered descriptors.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	out := make([]string, 0, len(registry))
	for _, d := range registry {
		out = append(out, d.Name)
	}
	return out
}

// All returns a copy of every registered descriptor, built-ins first, in
// a stable order.
func All() []*Descriptor {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]*Descriptor, len(registry))
	for i, d := range registry {
		out[i] = d.Clone()
	}
	return out
}

// Builtins returns a copy of every built-in descriptor, in a stable order.
func Builtins() []*Descriptor {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]*Descriptor, nBuiltin)
	for i, d := range registry[:nBuiltin] {
		out[i] = d.Clone()
	}
	return out
}

// ByMachine returns copies of the descriptors whose banner machine word
// is machine. Several ABIs share a word (evbarm64 is aarch64 and
// aarch64eb), so the answer may hold more than one.
func ByMachine(machine string) []*Descriptor {
	var out []*Descriptor
	for _, d := range All() {
		if d.Machine == machine {
			out = append(out, d)
		}
	}
	return out
}

// requiredKeys are the descriptor JSON keys without a default. The others
// (aliases, machine_arch, bool, long_double, int128,
// unnamed_bitfields_align, compiler, note) are optional; docs/abi-json.md
// says what their absence means.
var requiredKeys = []string{
	"name", "machine", "endian",
	"char", "short", "int", "long", "long_long", "pointer", "size_t", "register_t", "float", "double",
	"char_signed", "register_t_signed",
}

// Parse reads a descriptor from JSON and validates it. The JSON is one
// descriptor object, or an array holding exactly one (so one entry of
// 'sprig abi list --format json' reads back). Unknown keys are rejected so
// a misspelt field cannot silently become a zero, and every key without a
// documented default is required.
func Parse(data []byte) (*Descriptor, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return nil, fmt.Errorf("abi: descriptor JSON: %w", err)
		}
		if len(elems) != 1 {
			return nil, fmt.Errorf("abi: descriptor JSON: an array of %d descriptors (%s); a descriptor file holds one (an object, or an array of one)",
				len(elems), strings.Join(arrayNames(elems), ", "))
		}
		trimmed = elems[0]
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var d Descriptor
	if err := dec.Decode(&d); err != nil {
		return nil, jsonError(trimmed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("abi: descriptor JSON: data after the descriptor object")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &keys); err != nil {
		return nil, fmt.Errorf("abi: descriptor JSON: %w", err)
	}
	for _, k := range requiredKeys {
		if _, ok := keys[k]; !ok {
			return nil, &FieldError{ABI: d.Name, Field: k, Problem: "is missing (required; see docs/abi-json.md)"}
		}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// arrayNames lists the "name" of each element of a descriptor array, for
// the error that refuses more than one.
func arrayNames(elems []json.RawMessage) []string {
	var out []string
	for i, e := range elems {
		var named struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(e, &named) != nil || named.Name == "" {
			out = append(out, fmt.Sprintf("#%d unnamed", i))
			continue
		}
		out = append(out, strconv.Quote(named.Name))
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// jsonError turns a decoding error about one key (unknown, or of the wrong
// JSON type) into a FieldError naming it, so every descriptor mistake is
// reported the same way.
func jsonError(data []byte, err error) error {
	var named struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(data, &named) // best effort, for the message only
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &FieldError{ABI: named.Name, Field: te.Field, Problem: fmt.Sprintf("is a JSON %s; want %s", te.Value, te.Type)}
	}
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if k, qerr := strconv.Unquote(key); qerr == nil {
			key = k
		}
		return &FieldError{ABI: named.Name, Field: key, Problem: "is not a descriptor field"}
	}
	return fmt.Errorf("abi: descriptor JSON: %w", err)
}

// Load reads and validates a user descriptor from a file of any name (see
// Parse for the format). A descriptor whose name or an alias is a
// built-in descriptor's is refused with ErrShadowsBuiltin, unless it is
// that built-in descriptor exactly (an entry of 'sprig abi list --format
// json' saved as it is). The result is not registered; call Register to
// make Lookup find it.
func Load(path string) (*Descriptor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("abi: %w", err)
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	if err := checkShadow(d); err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return d, nil
}

// checkShadow refuses a user descriptor that takes a built-in's name.
func checkShadow(d *Descriptor) error {
	for _, b := range Builtins() {
		for _, n := range d.Names() {
			if !slices.ContainsFunc(b.Names(), func(bn string) bool { return strings.EqualFold(bn, n) }) {
				continue
			}
			if d.Equal(b) {
				return nil
			}
			return fmt.Errorf("abi: descriptor %s %w: %q is a name of the built-in %s, and the descriptor differs from it; give it a name of its own",
				d.Name, ErrShadowsBuiltin, n, b.Name)
		}
	}
	return nil
}
