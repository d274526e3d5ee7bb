package engine

import (
	"context"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// DryResult is what a server dry run found for one step.
type DryResult struct {
	Step string
	Kind string
	// Sent says whether the step's writes went to the API server; Note
	// says why not, or that they were already so.
	Sent bool
	Note string
	// Err is the API server's refusal (admission, RBAC, validation), or a
	// read that failed.
	Err error
}

// DryRun walks a planned run's steps in order and has every step that
// writes to Kubernetes send its writes through its action's DryRun; see
// Action.DryRun for the clients this needs. Nothing is journaled and
// nothing waits. A step the system is already settled for is not sent.
// Every step is tried, also after a refusal, so one dry run names every
// write the cluster would refuse.
func DryRun(ctx context.Context, acts map[string]Action, r *journal.Run) []DryResult {
	out := make([]DryResult, 0, len(r.Steps))
	for i := range r.Steps {
		st := &r.Steps[i]
		res := DryResult{Step: st.Name, Kind: st.Kind}
		a, ok := acts[st.Kind]
		x := Exec{Run: r, Step: st}
		switch {
		case !ok || a.DryRun == nil:
			res.Note = "nothing to send: it writes no Kubernetes object, or waits for what the writes would do"
		default:
			if a.Settled != nil {
				note, settled, err := a.Settled(ctx, x)
				if err != nil {
					res.Err = err
					break
				}
				if settled {
					res.Note = note
					break
				}
			}
			res.Sent, res.Err = true, a.DryRun(ctx, x)
		}
		if ctx.Err() != nil {
			res.Err = ctx.Err()
		}
		out = append(out, res)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}
