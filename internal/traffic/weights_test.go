package traffic_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/traffic"
)

func TestSplitFromWeights(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights map[string]int64
		want    traffic.Split
	}{
		{"all to blue", map[string]int64{"blue": 100, "green": 0}, traffic.Split{"blue": 100, "green": 0}},
		{"percent as written", map[string]int64{"blue": 90, "green": 10}, traffic.Split{"blue": 90, "green": 10}},
		{"relative shares", map[string]int64{"blue": 1, "green": 3}, traffic.Split{"blue": 25, "green": 75}},
		{"largest remainder", map[string]int64{"blue": 1, "green": 2}, traffic.Split{"blue": 33, "green": 67}},
		{"rounding down and up", map[string]int64{"blue": 200, "green": 55}, traffic.Split{"blue": 78, "green": 22}},
		{"max weights", map[string]int64{"blue": 255, "green": 255}, traffic.Split{"blue": 50, "green": 50}},
		{"all zero is equal shares", map[string]int64{"blue": 0, "green": 0}, traffic.Split{"blue": 50, "green": 50}},
		{"three colors tie to the first", map[string]int64{"a": 1, "b": 1, "c": 1}, traffic.Split{"a": 34, "b": 33, "c": 33}},
		{"three colors all zero", map[string]int64{"a": 0, "b": 0, "c": 0}, traffic.Split{"a": 34, "b": 33, "c": 33}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := traffic.SplitFromWeights(tc.weights); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("SplitFromWeights(%v) = %v, want %v", tc.weights, got, tc.want)
			}
		})
	}
}

func TestValidateSplit(t *testing.T) {
	colors := []string{"blue", "green"}
	for _, tc := range []struct {
		name  string
		split traffic.Split
		want  string // empty: valid
	}{
		{"canary", traffic.Split{"blue": 90, "green": 10}, ""},
		{"all green", traffic.Split{"blue": 0, "green": 100}, ""},
		{"sums to 90", traffic.Split{"blue": 80, "green": 10}, "shares sum to 90, want 100"},
		{"over 100", traffic.Split{"blue": 101, "green": -1}, "blue=101 is out of range"},
		{"unknown color", traffic.Split{"blue": 100, "red": 0}, `color "red" is not configured (configured: blue, green)`},
		{"missing color", traffic.Split{"green": 100}, `no share for color "blue"`},
		{"empty", traffic.Split{}, `no share for color "blue"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := traffic.ValidateSplit(tc.split, colors)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateSplit(%v) = %v, want nil", tc.split, err)
				}
				return
			}
			wantErr(t, err, tc.want)
		})
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q, got nil", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}
