package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Encoder encodes a run to the same bytes as json.Marshal, re-encoding only
// the steps marked changed since its last Encode. A run of many steps is
// journaled at every step boundary; without it each write would encode
// every step again (at 50 StatefulSets, 500 steps for each of ~250 writes).
//
// An Encoder follows one run. Mark every change of a step with Changed
// before the next Encode; changes to the run's own fields (state, reason,
// approval) need no mark, they are encoded every time. It is not safe for
// concurrent use: the engine calls it under its lock.
type Encoder struct {
	run   *Run
	base  *Step    // &run.Steps[0] when the cache was built
	steps [][]byte // encoded step i, nil when it must be encoded again
	index map[*Step]int
}

// stepsNull is how the run's own "steps" field encodes with no steps. The
// run's fields after Steps are times, so the last occurrence is the run's
// own field: a string can hold these bytes only with its quotes escaped,
// and a nested object (the spec) comes before it.
var stepsNull = []byte(`"steps":null`)

// Changed marks step s of run r for encoding at the next Encode. A step the
// Encoder does not know (another run, a step slice that was replaced)
// drops the cache, so the next Encode encodes every step.
func (c *Encoder) Changed(r *Run, s *Step) {
	if !c.current(r) {
		c.reset()
		return
	}
	if i, ok := c.index[s]; ok {
		c.steps[i] = nil
		return
	}
	c.reset()
}

func (c *Encoder) current(r *Run) bool {
	if c.run != r || len(c.steps) != len(r.Steps) {
		return false
	}
	return len(r.Steps) == 0 || c.base == &r.Steps[0]
}

func (c *Encoder) reset() {
	c.run, c.base, c.steps, c.index = nil, nil, nil, nil
}

// Encode returns r as json.Marshal would.
func (c *Encoder) Encode(r *Run) ([]byte, error) {
	if !c.current(r) {
		c.run, c.steps, c.index = r, make([][]byte, len(r.Steps)), make(map[*Step]int, len(r.Steps))
		c.base = nil
		if len(r.Steps) > 0 {
			c.base = &r.Steps[0]
		}
		for i := range r.Steps {
			c.index[&r.Steps[i]] = i
		}
	}
	head := *r
	head.Steps = nil
	data, err := json.Marshal(&head)
	if err != nil {
		return nil, fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	if r.Steps == nil {
		return data, nil
	}
	at := bytes.LastIndex(data, stepsNull)
	if at < 0 {
		return nil, fmt.Errorf("encode run %s: no steps field in %d bytes", r.ID, len(data))
	}
	size := len(data) + len(r.Steps) + 2
	for i := range r.Steps {
		if c.steps[i] == nil {
			if c.steps[i], err = json.Marshal(&r.Steps[i]); err != nil {
				c.reset()
				return nil, fmt.Errorf("encode run %s: step %s: %w", r.ID, r.Steps[i].Name, err)
			}
		}
		size += len(c.steps[i])
	}
	out := make([]byte, 0, size)
	out = append(out, data[:at]...)
	out = append(out, `"steps":[`...)
	for i, s := range c.steps {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, s...)
	}
	out = append(out, ']')
	return append(out, data[at+len(stepsNull):]...), nil
}
