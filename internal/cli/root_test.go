package cli

import "testing"

// NAMESPACE, which the release scripts bluegreen replaces set, selects the
// namespace like -n; -n wins over it.
func TestNamespaceFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"unset: the context's namespace", "", nil, ""},
		{"NAMESPACE alone", "prod", nil, "prod"},
		{"-n wins", "prod", []string{"-n", "staging"}, "staging"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NAMESPACE", tt.env)
			g := &Global{}
			root := newRoot(g, "bluegreen")
			if err := root.PersistentFlags().Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if g.Kube.Context.Namespace != tt.want {
				t.Fatalf("namespace = %q, want %q", g.Kube.Context.Namespace, tt.want)
			}
		})
	}
}
