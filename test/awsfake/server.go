package awsfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// DefaultAccountID is the account ID reported as the owner of fake
// resources when Options.AccountID is empty.
const DefaultAccountID = "123456789012"

// Options configures a Server. The zero value is usable: real time, no
// delays (asynchronous transitions complete on the next read).
type Options struct {
	// Clock returns the current time. Nil means time.Now. All
	// asynchronous transitions are evaluated lazily against this clock.
	Clock func() time.Time
	// AccountID is the owner ID reported for volumes, snapshots and
	// security groups, and the account in every ARN the fake makes.
	AccountID string
	// VolumeCreateDelay is how long a new volume stays "creating".
	VolumeCreateDelay time.Duration
	// AttachDelay is how long a new attachment stays "attaching" before it
	// becomes "attached". The volume is "in-use" from the AttachVolume call
	// on, as in EC2.
	AttachDelay time.Duration
	// DetachDelay is how long an attachment stays "detaching" before the
	// volume becomes "available".
	DetachDelay time.Duration
	// SnapshotDelay is how long a snapshot stays "pending".
	SnapshotDelay time.Duration
	// ChangeSyncDelay is how long a Route 53 change stays PENDING before
	// it becomes INSYNC.
	ChangeSyncDelay time.Duration
	// Logger receives one debug line per request. Nil disables logging.
	Logger *slog.Logger
}

// Server is the fake AWS endpoint. Create it with New, then Start or
// StartT. All state is in memory and guarded by a mutex.
type Server struct {
	opts Options
	hs   *httptest.Server

	mu    sync.Mutex
	ec2   ec2State
	r53   r53State
	eks   eksState
	iam   iamState
	elbv2 elbv2State
	sns   snsState
}

// New returns a Server that is not yet listening.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	s := &Server{opts: opts}
	s.ec2.init()
	s.r53.init()
	s.eks.init()
	s.iam.init()
	s.elbv2.init()
	s.sns.init()
	return s
}

// Start starts listening on a loopback address and returns the base URL to
// use as the SDK clients' BaseEndpoint.
func (s *Server) Start() string {
	s.hs = httptest.NewServer(s)
	return s.hs.URL
}

// StartT starts the server, registers Close with t.Cleanup and returns s.
func (s *Server) StartT(t testing.TB) *Server {
	t.Helper()
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// URL returns the base URL of a started server.
func (s *Server) URL() string {
	if s.hs == nil {
		return ""
	}
	return s.hs.URL
}

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() {
	if s.hs != nil {
		s.hs.Close()
	}
}

// AWSConfig returns an aws.Config with static test credentials, region
// us-east-1 and BaseEndpoint pointing at the started server, suitable for
// the NewFromConfig constructor of every service the fake speaks (ec2,
// route53, eks, iam, elasticloadbalancingv2, sns).
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(s.URL()),
	}
}

func (s *Server) now() time.Time { return s.opts.Clock().UTC() }

// ServeHTTP dispatches a request to a service: Route 53 and EKS by their
// REST path prefixes, the query-protocol services (EC2, IAM, ELBv2, SNS) by the
// form's Version parameter.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Logger != nil {
		s.opts.Logger.Debug("awsfake request", "method", r.Method, "path", r.URL.Path)
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/"+r53Version+"/"):
		s.serveRoute53(w, r)
	case r.URL.Path == "/clusters" || strings.HasPrefix(r.URL.Path, "/clusters/"):
		s.serveEKS(w, r)
	default:
		s.serveQuery(w, r)
	}
}

// ManualClock is a settable clock for Options.Clock. It is safe for
// concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock frozen at start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{t: start} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randUpper(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = upperAlnum[int(b[i])%len(upperAlnum)]
	}
	return string(b)
}

func newRequestID() string {
	h := randHex(32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func writeXML(w http.ResponseWriter, status int, reqID string, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "awsfake: marshal response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.Header().Set("x-amz-request-id", reqID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
