package migrate

import (
	"context"
	"time"

	"github.com/bluegreen/bluegreen/internal/engine"
)

// approval is what an approval gate journals once it let the run on.
type approval struct {
	ApprovedAt time.Time `json:"approvedAt"`
}

// approveShift holds the run before a shift until a person approves it
// with `bluegreen migrate promote`, which sets the run's approval. The gate
// uses the approval up, so the next gate stops the run again: one promote
// lets exactly one shift through.
func (e Env) approveShift() engine.Action {
	return engine.Action{Do: func(_ context.Context, x engine.Exec) (any, error) {
		if !x.Run.Approved {
			return nil, engine.ErrPaused
		}
		x.Run.Approved = false
		return approval{ApprovedAt: e.Clock.Now().UTC()}, nil
	}}
}
