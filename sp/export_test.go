package sp

// WriteRaw sends bytes exactly as given, for tests that must produce what
// a well-behaved peer never would.
func WriteRaw(f *Framer, b []byte) error { return f.writeRaw(b) }

// InjectFault sets the codec's test-only fault (see faultInjection) until
// the returned function restores the previous one. Tests that use it
// must not run in parallel with others.
func InjectFault(fault string) (restore func()) {
	old := faultInjection
	faultInjection = fault
	return func() { faultInjection = old }
}

// XlateRegions reports how many regions the client's translated calls
// hold, for tests that a given-up call's regions are forgotten.
func XlateRegions(c *Client) int { return c.xs.Regions() }
