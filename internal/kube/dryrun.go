package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DryRunAll is the value of the dryRun query parameter that has the API
// server run a write through validation, admission and RBAC, and keep
// nothing.
const DryRunAll = "All"

// ServerDryRun returns clients of the same cluster whose every write
// (create, update, patch, delete) carries dryRun=All: the API server
// authorizes it, runs every admission webhook and policy on it, answers as
// if it were kept, and keeps nothing. Reads are unchanged. The mark is set
// in the transport, below every client built from the returned Config, so
// no write can leave without it.
func (c *Clients) ServerDryRun() (*Clients, error) {
	cfg := rest.CopyConfig(c.Config)
	// JSON, not protobuf: a delete's options travel in its body, which the
	// transport must be able to mark.
	cfg.ContentType = "application/json"
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return dryRunTransport{rt} })
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dry-run client for context %q: %w", c.Context, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dry-run dynamic client for context %q: %w", c.Context, err)
	}
	return &Clients{Config: cfg, Kube: cs, Lease: cs, Records: dyn, Context: c.Context, Namespace: c.Namespace}, nil
}

type dryRunTransport struct{ next http.RoundTripper }

func (t dryRunTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return t.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	q := req.URL.Query()
	q.Set("dryRun", DryRunAll)
	req.URL.RawQuery = q.Encode()
	if req.Method == http.MethodDelete && req.Body != nil && req.Body != http.NoBody {
		// A delete takes its options from the body when it has one, and
		// the query's dryRun is then ignored: mark the body too.
		if err := markDeleteBody(req); err != nil {
			return nil, err
		}
	}
	return t.next.RoundTrip(req)
}

// markDeleteBody sets dryRun: [All] in a DELETE's DeleteOptions body. A
// body it cannot read as JSON is refused, never sent unmarked.
func markDeleteBody(req *http.Request) error {
	raw, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return fmt.Errorf("server dry run: read the options of DELETE %s: %w", req.URL.Path, err)
	}
	opts := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &opts); err != nil {
			return fmt.Errorf("server dry run: refusing DELETE %s, whose options are not JSON and cannot be marked dryRun: %w", req.URL.Path, err)
		}
	}
	opts["dryRun"] = []string{DryRunAll}
	if raw, err = json.Marshal(opts); err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	req.ContentLength = int64(len(raw))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	return nil
}
