package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

// ErrUnknownABI is returned by Lookup for a name no descriptor answers to.
var ErrUnknownABI = errors.New("unknown ABI")

var (
	regMu    sync.RWMutex
	registry []*Descriptor
)

func init() {
	for _, d := range builtins() {
		if err := Register(d); err != nil {
			panic(err)
		}
	}
}

// Register validates d and makes it available to Lookup and All under its
// name and aliases, exactly like a built-in descriptor. A name already
// taken is an error. Registered descriptors must not be modified.
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
	registry = append(registry, d)
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

// Lookup returns the descriptor whose name or alias is name (case does not
// matter). The error for an unknown name lists the known ones.
func Lookup(name string) (*Descriptor, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	if d := lookupLocked(name); d != nil {
		return d, nil
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

// Resolve accepts what a user types for an ABI: a name or alias, or the
// path of a JSON descriptor file (anything ending in .json).
func Resolve(nameOrPath string) (*Descriptor, error) {
	if strings.HasSuffix(nameOrPath, ".json") {
		return Load(nameOrPath)
	}
	return Lookup(nameOrPath)
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

// All returns every registered descriptor, built-ins first, in a stable
// order.
func All() []*Descriptor {
	regMu.RLock()
	defer regMu.RUnlock()
	return append([]*Descriptor(nil), registry...)
}

// ByMachine returns the descriptors whose banner machine word is machine.
// Several ABIs share a word (evbarm64 is aarch64 and aarch64eb), so the
// answer may hold more than one.
func ByMachine(machine string) []*Descriptor {
	var out []*Descriptor
	for _, d := range All() {
		if d.Machine == machine {
			out = append(out, d)
		}
	}
	return out
}

// Parse reads a descriptor from JSON and validates it. Unknown keys are
// rejected so a misspelt field cannot silently become a zero.
func Parse(data []byte) (*Descriptor, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Descriptor
	if err := dec.Decode(&d); err != nil {
		return nil, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("abi: descriptor JSON: data after the descriptor object")
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
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

// Load reads and validates a descriptor from a JSON file. The result is
// not registered; call Register to make Lookup find it.
func Load(path string) (*Descriptor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("abi: %w", err)
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return d, nil
}
