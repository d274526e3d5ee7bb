package kube_test

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/bluegreen/bluegreen/internal/kube"
)

// Requests sent side by side before the first connection exists go out on
// one connection, over HTTP/2 through the clients kube.Connect builds;
// without the gate Go dials one per request.
func TestFirstRequestsShareOneConnection(t *testing.T) {
	for _, tt := range []struct {
		name  string
		gated bool
	}{{"gated", true}, {"not gated", false}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.ProtoMajor != 2 {
					http.Error(w, "want HTTP/2", http.StatusBadRequest)
					return
				}
				_, _ = w.Write([]byte(`{}`))
			}))
			var conns atomic.Int32
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.EnableHTTP2 = true
			srv.StartTLS()
			t.Cleanup(srv.Close)
			ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
			cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
			if tt.gated {
				c, err := kube.Connect(kube.ClientOptions{Kubeconfig: kubeconfigFor(t, srv.URL, ca)})
				if err != nil {
					t.Fatal(err)
				}
				cfg = rest.CopyConfig(c.Config)
			}
			// A proxy func of its own keeps client-go from handing out a
			// transport it cached, connections and all.
			cfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
			client, err := rest.HTTPClientFor(cfg)
			if err != nil {
				t.Fatal(err)
			}
			const n = 8
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Go(func() {
					resp, err := client.Get(srv.URL + "/api")
					if err == nil {
						_ = resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							err = errors.New(resp.Status)
						}
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("GET: %v", err)
				}
			}
			got := conns.Load()
			if tt.gated && got != 1 {
				t.Errorf("%d requests at once opened %d connections, want 1", n, got)
			}
			t.Logf("%d requests at once, %s: %d connections", n, tt.name, got)
		})
	}
}

// When the first request gets no connection, the others are let go (each
// dials and fails on its own) rather than held; one that waits gives up
// with its context.
func TestFirstConnDoesNotHoldOthersForever(t *testing.T) {
	t.Run("first request fails", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close() // nothing listens: every dial is refused
		client := &http.Client{Transport: kube.FirstConn()(&http.Transport{})}
		var wg sync.WaitGroup
		var failed atomic.Int32
		for range 4 {
			wg.Go(func() {
				if _, err := client.Get("http://" + addr + "/"); err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		if failed.Load() != 4 {
			t.Errorf("%d of 4 requests failed, want all", failed.Load())
		}
	})
	t.Run("a waiting request's context ends", func(t *testing.T) {
		// A server that accepts and never answers the TLS handshake: the
		// first request never gets its connection.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var accepted []net.Conn
		t.Cleanup(func() {
			_ = l.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range accepted {
				_ = c.Close()
			}
		})
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				accepted = append(accepted, c)
				mu.Unlock()
			}
		}()
		// Only the first request passes the gate before it opens.
		reached := make(chan struct{})
		var once sync.Once
		var passed atomic.Int32
		next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			passed.Add(1)
			once.Do(func() { close(reached) })
			return http.DefaultTransport.RoundTrip(r)
		})
		client := &http.Client{Transport: kube.FirstConn()(next)}
		url := "https://" + l.Addr().String() + "/"
		first, cancelFirst := context.WithCancel(context.Background())
		t.Cleanup(cancelFirst)
		go func() {
			req, _ := http.NewRequestWithContext(first, http.MethodGet, url, nil)
			if resp, err := client.Do(req); err == nil {
				_ = resp.Body.Close()
			}
		}()
		<-reached
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		_, err = client.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("waiting request: %v, want its context's deadline", err)
		}
		if n := passed.Load(); n != 1 {
			t.Errorf("%d requests went past the gate, want only the first", n)
		}
	})
}

// kubeconfigFor writes a kubeconfig for the server at url with CA ca.
func kubeconfigFor(t *testing.T, url string, ca []byte) string {
	t.Helper()
	conf := clientcmdapi.NewConfig()
	conf.Clusters["test"] = &clientcmdapi.Cluster{Server: url, CertificateAuthorityData: ca}
	conf.AuthInfos["test"] = &clientcmdapi.AuthInfo{}
	conf.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test"}
	conf.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*conf, path); err != nil {
		t.Fatal(err)
	}
	return path
}
