package preflight

import (
	"context"
	"fmt"
	"strings"
)

// checkRecordValues: a shift UPSERTs whole weighted record sets, value or
// alias target included, so a value in the spec that is not the live one
// (a typo, or the console's change) would replace production's record at
// the first shift. The shift itself pauses on it, but only after every
// hand-off; preflight finds it before the first write.
func checkRecordValues(ctx context.Context, p *probe) Result {
	if len(p.in.Targets) == 0 {
		return Result{Status: Pass, Detail: "no records whose values a shift writes"}
	}
	if p.in.Values == nil {
		return errorResult(errNoClient("record comparison (traffic.Verifier)"))
	}
	var diffs, names []string
	for _, t := range p.in.Targets {
		d, err := p.in.Values.Mismatches(ctx, t)
		if err != nil {
			return errorResult(fmt.Errorf("read %s: %w", t.Name, err))
		}
		diffs = append(diffs, d...)
		names = append(names, t.Name)
	}
	if len(diffs) > 0 {
		return Result{Status: Fail, Detail: strings.Join(diffs, "; "),
			Hint: "correct the value or alias in dns.records, or the record in Route 53 if it was changed by mistake: the shifts write the spec's values"}
	}
	return Result{Status: Pass, Detail: "the live record sets of " + strings.Join(names, ", ") + " hold the spec's values"}
}
