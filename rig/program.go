package rig

import (
	"context"
	"errors"
	"time"
)

// runProgram runs p.Program against the server at url and reports it as
// runGuest reports the guest: the same results, explanations from obs
// (when not nil), and a broken program never a silent gap.
func runProgram(ctx context.Context, p Pair, url string, obs *observer) (*Report, error) {
	rep := p.newReport()
	rep.Program = p.Program.String()
	// The program gets every scenario's timeout plus slack, as the guest
	// does; the program bounds each scenario itself.
	n := max(len(p.Scenarios), 1)
	pctx, cancel := context.WithTimeout(ctx, time.Duration(n)*p.timeout()+2*time.Second)
	defer cancel()
	start := time.Now()
	results, err := p.Program.Run(pctx, url, p)
	rep.Elapsed = time.Since(start)
	rep.Millis = float64(rep.Elapsed.Microseconds()) / 1000
	for _, res := range results {
		x := resultOf(res)
		if obs != nil {
			x.Explanation = explain(p, obs, res)
		}
		rep.Results = append(rep.Results, x)
	}
	if err != nil {
		end := endingOf(ctx, pctx)
		switch {
		case end == endedOddly && errors.Is(err, context.DeadlineExceeded):
			end = endedLate // the program's own deadline
		case end == endedOddly && errors.Is(err, ErrEnvironment):
			end = endedEnvironment
		}
		failMissing(rep, p.Scenarios, err.Error(), end)
	}
	rep.settle()
	return rep, nil
}
