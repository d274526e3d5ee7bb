package traffic

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// MaxWeight is the largest weight Route 53 accepts on a record set (and
// external-dns passes on to it).
const MaxWeight = 255

// SplitFromWeights converts weights of weighted DNS records (Route 53), which are relative shares, into
// percent per color summing to 100. Each color gets weight*100/sum rounded by
// the largest-remainder method, so the parts always add up to 100; ties go to
// the color that sorts first.
//
// When every weight is 0, Route 53 answers with all record sets in equal
// proportion, so SplitFromWeights reports equal shares (50/50 for two
// colors), not 0/0.
func SplitFromWeights(weights map[string]int64) Split {
	colors := make([]string, 0, len(weights))
	var sum int64
	for c, w := range weights {
		colors = append(colors, c)
		sum += max(w, 0)
	}
	slices.Sort(colors)
	out := make(Split, len(colors))
	if len(colors) == 0 {
		return out
	}
	if sum == 0 {
		for i, c := range colors {
			out[c] = 100 / len(colors)
			if i < 100%len(colors) {
				out[c]++
			}
		}
		return out
	}
	type remainder struct {
		color string
		rest  int64
	}
	rests := make([]remainder, 0, len(colors))
	given := 0
	for _, c := range colors {
		w := max(weights[c], 0)
		out[c] = int(w * 100 / sum)
		given += out[c]
		rests = append(rests, remainder{c, w * 100 % sum})
	}
	sort.SliceStable(rests, func(i, j int) bool { return rests[i].rest > rests[j].rest })
	for i := 0; given < 100; i++ {
		out[rests[i%len(rests)].color]++
		given++
	}
	return out
}

// ValidateSplit checks that s names exactly the configured colors, gives
// each 0 to 100 percent, and sums to 100. Routers call it before writing
// anything.
func ValidateSplit(s Split, colors []string) error {
	var errs []string
	for c, p := range s {
		if !slices.Contains(colors, c) {
			errs = append(errs, fmt.Sprintf("color %q is not configured (configured: %s)", c, strings.Join(colors, ", ")))
		}
		if p < 0 || p > 100 {
			errs = append(errs, fmt.Sprintf("%s=%d is out of range, want 0 to 100", c, p))
		}
	}
	sum := 0
	for _, c := range colors {
		p, ok := s[c]
		if !ok {
			errs = append(errs, fmt.Sprintf("no share for color %q", c))
		}
		sum += p
	}
	if len(errs) == 0 && sum != 100 {
		errs = append(errs, fmt.Sprintf("shares sum to %d, want 100", sum))
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return fmt.Errorf("split %s: %s", s, strings.Join(errs, "; "))
	}
	return nil
}
