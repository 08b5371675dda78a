// Package matrix runs every client ABI against every server ABI in every
// cross-ABI mode, checks each scenario's outcome against the prediction
// package rig/predict computes from the ABI descriptors alone, and
// reports the result as text, JSON, JUnit XML or Markdown.
//
// A matrix is a set of cells, one per (mode, client ABI, server ABI);
// each cell is one rig run of the selected scenarios. Run spreads the
// cells over a pool of workers sharing one compiled guest. A result
// whose observed status is not the predicted one is a disagreement: a
// bug in sprig or in the theory, never noise. Report.OK is false when
// there is any, and sprig matrix exits 1.
//
// A matrix can be split into shards (Shard) that run on different
// machines; Merge joins their JSON reports, whose format is versioned
// (SchemaVersion) and documented in docs/matrix-json.md.
//
// Predicted builds the report a clean run must produce without running
// anything. Because the Markdown of a clean run equals the Markdown of
// that report, a test can keep the verdict table committed in README.md
// current in milliseconds.
//
// The package is not a test framework: it runs the embedded scenario
// guest (or the rig's guest) and has no notion of other programs.
package matrix
