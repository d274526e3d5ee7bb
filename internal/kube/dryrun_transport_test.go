package kube

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The mark reaches the server on every write, in the query and, for a
// delete with options, in the body the server reads them from; reads go
// unmarked; a delete body that cannot be marked is never sent.
func TestDryRunTransportMarksEveryWrite(t *testing.T) {
	type seen struct{ query, body string }
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.URL.Query().Get("dryRun"), string(b)})
	}))
	t.Cleanup(srv.Close)
	rt := dryRunTransport{http.DefaultTransport}
	for _, tc := range []struct {
		method, body string
		wantQuery    string
		wantBody     string
		wantErr      string
	}{
		{http.MethodGet, "", "", "", ""},
		{http.MethodPost, `{"kind":"ConfigMap"}`, "All", `{"kind":"ConfigMap"}`, ""},
		{http.MethodPatch, `{"spec":{}}`, "All", `{"spec":{}}`, ""},
		{http.MethodPut, `{}`, "All", `{}`, ""},
		{http.MethodDelete, "", "All", "", ""},
		{http.MethodDelete, `{"propagationPolicy":"Background"}`, "All", `{"dryRun":["All"],"propagationPolicy":"Background"}`, ""},
		{http.MethodDelete, "\x0a\x05proto", "", "", "cannot be marked dryRun"},
	} {
		t.Run(tc.method+" "+tc.body, func(t *testing.T) {
			got = nil
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+"/api/v1/namespaces/default/configmaps/x?fieldManager=bluegreen", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rt.RoundTrip(req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || len(got) != 0 {
					t.Fatalf("err %v, %d requests reached the server; want %q and none", err, len(got), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if len(got) != 1 || got[0].query != tc.wantQuery || got[0].body != tc.wantBody {
				t.Fatalf("server saw %+v; want dryRun=%q body %q", got, tc.wantQuery, tc.wantBody)
			}
		})
	}
}
