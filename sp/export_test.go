package sp

// WriteRaw sends bytes exactly as given, for tests that must produce what
// a well-behaved peer never would.
func WriteRaw(f *Framer, b []byte) error { return f.writeRaw(b) }
