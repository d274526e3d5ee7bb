package route53_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/route53"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

func TestDriftObservedAndRecorded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, awsfake.Options{})
	e.seed(t, 100, 0)
	tgt := e.target(nil)
	if err := e.router.Shift(ctx, tgt, traffic.Split{"blue": 90, "green": 10}); err != nil {
		t.Fatalf("Shift: %v", err)
	}

	// Someone sets 50/50 in the console, and points green elsewhere.
	e.upsert(t, cname("cluster-a", 50, blueLB), cname("cluster-b", 50, "c-9999.us-east-1.elb.amazonaws.com"))

	got, err := e.router.Observe(ctx, tgt)
	if err != nil || !reflect.DeepEqual(got, traffic.Split{"blue": 50, "green": 50}) {
		t.Fatalf("Observe after out-of-band edit = %v, %v; want blue=50,green=50", got, err)
	}
	states, err := e.router.Records(ctx, tgt)
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	want := []route53.RecordState{
		{Color: "blue", SetIdentifier: "cluster-a", Exists: true, Weight: aws.Int64(50), Values: []string{blueLB}, TTL: aws.Int64(60)},
		{Color: "green", SetIdentifier: "cluster-b", Exists: true, Weight: aws.Int64(50), Values: []string{"c-9999.us-east-1.elb.amazonaws.com"}, TTL: aws.Int64(60)},
	}
	if !reflect.DeepEqual(states, want) {
		t.Fatalf("Records =\n%v\nwant\n%v", states, want)
	}
	if s := states[1].String(); s != `green set-identifier="cluster-b" weight=50 value=c-9999.us-east-1.elb.amazonaws.com ttl=60` {
		t.Fatalf("RecordState.String = %s", s)
	}

	// The next shift writes the configured records back.
	if err := e.router.Shift(ctx, tgt, traffic.Split{"blue": 80, "green": 20}); err != nil {
		t.Fatalf("Shift: %v", err)
	}
	if v := e.listed(t)["cluster-b"].ResourceRecords[0].Value; aws.ToString(v) != greenLB {
		t.Fatalf("green value %s after shift, want %s", aws.ToString(v), greenLB)
	}
}

func TestAliasRecords(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, awsfake.Options{})
	tgt := traffic.Target{Name: record, Options: aliasOptions(map[string]string{
		"zone": e.zone, "poll-interval": "5ms", "blue.evaluate-health": "true",
	})}
	// Shift creates the record sets when they do not exist yet.
	if err := e.router.Shift(ctx, tgt, traffic.Split{"blue": 100, "green": 0}); err != nil {
		t.Fatalf("Shift: %v", err)
	}
	if err := e.router.Shift(ctx, tgt, traffic.Split{"blue": 90, "green": 10}); err != nil {
		t.Fatalf("Shift: %v", err)
	}
	got, err := e.router.Observe(ctx, tgt)
	if err != nil || !reflect.DeepEqual(got, traffic.Split{"blue": 90, "green": 10}) {
		t.Fatalf("Observe = %v, %v", got, err)
	}
	states, err := e.router.Records(ctx, tgt)
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	want := []route53.RecordState{
		{Color: "blue", SetIdentifier: "cluster-a", Exists: true, Weight: aws.Int64(90),
			Alias: &route53.Alias{DNSName: "dualstack.a-1234.us-east-1.elb.amazonaws.com.", HostedZoneID: "Z35SXDOTRQ7X7K", EvaluateTargetHealth: true}},
		{Color: "green", SetIdentifier: "cluster-b", Exists: true, Weight: aws.Int64(10),
			Alias: &route53.Alias{DNSName: "dualstack.b-5678.us-east-1.elb.amazonaws.com.", HostedZoneID: "Z35SXDOTRQ7X7K"}},
	}
	if !reflect.DeepEqual(states, want) {
		t.Fatalf("Records =\n%v\nwant\n%v", states, want)
	}
}

func TestObserveErrors(t *testing.T) {
	plain := types.ResourceRecordSet{Name: aws.String(record), Type: types.RRTypeCname, TTL: aws.Int64(300),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String(blueLB)}}}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *env)
		want  []string
	}{
		{"no record sets", func(*testing.T, *env) {}, []string{
			`record set app.example.com CNAME set-identifier "cluster-a" of color blue not found in hosted zone`}},
		{"missing green", func(t *testing.T, e *env) { e.upsert(t, cname("cluster-a", 100, blueLB)) }, []string{
			`record set app.example.com CNAME set-identifier "cluster-b" of color green not found`, "shift to write it"}},
		{"simple record", func(t *testing.T, e *env) { e.upsert(t, plain) }, []string{
			"record set app.example.com CNAME has no set identifier", "conflicts with weighted ones"}},
		{"unmanaged set identifier", func(t *testing.T, e *env) {
			e.seed(t, 100, 0)
			e.upsert(t, cname("x", 5, "x.example.net"))
		}, []string{`record set app.example.com CNAME set-identifier "x" is not managed by this migration`, `blue="cluster-a"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, awsfake.Options{})
			tc.setup(t, e)
			_, err := e.router.Observe(context.Background(), e.target(nil))
			wantErr(t, err, tc.want...)
			// Records reports the same state without failing.
			if _, err := e.router.Records(context.Background(), e.target(nil)); err != nil {
				t.Fatalf("Records: %v", err)
			}
		})
	}
}

func TestRecordsReportsUnmanagedAndMissing(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	e.upsert(t, cname("cluster-a", 100, blueLB), cname("x", 5, "x.example.net"))
	states, err := e.router.Records(context.Background(), e.target(nil))
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	var lines []string
	for _, s := range states {
		lines = append(lines, s.String())
	}
	want := []string{
		`(unmanaged) set-identifier="x" weight=5 value=x.example.net ttl=60`,
		`blue set-identifier="cluster-a" weight=100 value=` + blueLB + ` ttl=60`,
		`green set-identifier="cluster-b" missing`,
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("Records =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestObservePagedWildcard reads a wildcard record one record set per page,
// between the apex records that sort before it and a name that sorts after.
func TestObservePagedWildcard(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, awsfake.Options{})
	e.rec.pageSize = 1
	wild := func(name, id string, w int64, v string) types.ResourceRecordSet {
		rs := cname(id, w, v)
		rs.Name = aws.String(name)
		return rs
	}
	e.upsert(t,
		wild("*.example.com", "cluster-a", 30, blueLB),
		wild("*.example.com", "cluster-b", 70, greenLB),
		wild("a.example.com", "cluster-a", 1, blueLB),
	)
	tgt := e.target(nil)
	tgt.Name = "*.example.com"
	got, err := e.router.Observe(ctx, tgt)
	if err != nil || !reflect.DeepEqual(got, traffic.Split{"blue": 30, "green": 70}) {
		t.Fatalf("Observe = %v, %v; want blue=30,green=70", got, err)
	}
	if e.rec.lists < 2 {
		t.Fatalf("%d list calls: the listing was not paged", e.rec.lists)
	}
}
