package externaldns

import (
	"testing"

	"github.com/bluegreen/bluegreen/internal/traffic"
)

func TestLosersFirst(t *testing.T) {
	obj := func(color, weight string) observed {
		o := observed{color: color, annotations: map[string]string{}}
		if weight != "" {
			o.annotations[WeightAnnotation] = weight
		}
		return o
	}
	for _, tc := range []struct {
		name        string
		blue, green string // current weight annotations; empty: none
		to          traffic.Split
		first       string
	}{
		{"first canary step drains blue first", "100", "0", traffic.Split{"blue": 90, "green": 10}, "blue"},
		{"last step drains blue first", "10", "90", traffic.Split{"blue": 0, "green": 100}, "blue"},
		{"rollback drains green first", "50", "50", traffic.Split{"blue": 100, "green": 0}, "green"},
		{"relative weights read as percent", "200", "55", traffic.Split{"blue": 80, "green": 20}, "green"},
		{"no change keeps color order", "90", "10", traffic.Split{"blue": 90, "green": 10}, "blue"},
		{"unannotated green counts as none", "", "", traffic.Split{"blue": 100, "green": 0}, "green"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := losersFirst([]observed{obj("blue", tc.blue), obj("green", tc.green)}, tc.to)
			if got[0].color != tc.first {
				t.Fatalf("first patched %s, want %s", got[0].color, tc.first)
			}
		})
	}
}
