package apiscan

import (
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    Version
		wantErr string
	}{
		{in: "1.33", want: Version{1, 33}},
		{in: "v1.33", want: Version{1, 33}},
		{in: "1.33.2", want: Version{1, 33}},
		{in: "v1.33.0-eks-1234", want: Version{1, 33}},
		{in: "v1.29.15-eks-a737599", want: Version{1, 29}},
		{in: "1.29+", want: Version{1, 29}},
		{in: " 1.16 ", want: Version{1, 16}},
		{in: "", wantErr: "want <major>.<minor>"},
		{in: "1", wantErr: "want <major>.<minor>"},
		{in: "v", wantErr: "want <major>.<minor>"},
		{in: "1.2.3.4", wantErr: "want <major>.<minor>"},
		{in: "1.x", wantErr: "want <major>.<minor>"},
		{in: "one.two", wantErr: "want <major>.<minor>"},
		{in: "1.", wantErr: "want <major>.<minor>"},
		{in: "1.-3", wantErr: "want <major>.<minor>"},
		{in: "0.9", wantErr: "major version must be at least 1"},
		{in: "latest", wantErr: "want <major>.<minor>"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVersion(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseVersion(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "kubernetes version") {
					t.Errorf("error %q does not say what was parsed", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseVersion(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.16", "1.16", 0},
		{"1.9", "1.16", -1},
		{"1.33", "1.32", 1},
		{"2.0", "1.99", 1},
		{"v1.25.3", "1.25", 0},
	}
	for _, tt := range tests {
		a, b := MustParseVersion(tt.a), MustParseVersion(tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := a.AtLeast(b); got != (tt.want >= 0) {
			t.Errorf("%s.AtLeast(%s) = %v", tt.a, tt.b, got)
		}
	}
	if s := MustParseVersion("v1.33.0-eks-1").String(); s != "1.33" {
		t.Errorf("String() = %q, want 1.33", s)
	}
}
