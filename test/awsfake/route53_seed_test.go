package awsfake_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

func TestAddRecords(t *testing.T) {
	ctx := context.Background()
	srv, c := newR53(t, awsfake.Options{})
	zone := srv.AddHostedZone("example.com")

	// recordSets returns "name type setID" -> TTL (-1 for alias records).
	recordSets := func() map[string]int64 {
		t.Helper()
		out, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
		if err != nil {
			t.Fatalf("ListResourceRecordSets: %v", err)
		}
		got := map[string]int64{}
		for _, rs := range out.ResourceRecordSets {
			ttl := int64(-1)
			if rs.TTL != nil {
				ttl = *rs.TTL
			}
			got[aws.ToString(rs.Name)+" "+string(rs.Type)+" "+aws.ToString(rs.SetIdentifier)] = ttl
		}
		return got
	}

	tests := []struct {
		name    string
		zone    string
		records []awsfake.Record
		wantErr bool
		want    map[string]int64 // record sets that must exist afterwards
		absent  []string
	}{
		{
			name: "weighted pair and alias",
			zone: zone,
			records: []awsfake.Record{
				{Name: "app.example.com", Type: "A", TTL: 60, Values: []string{"10.0.0.1"}, SetIdentifier: "blue", Weight: aws.Int64(100)},
				{Name: "app.example.com", Type: "A", TTL: 60, Values: []string{"10.0.0.2"}, SetIdentifier: "green", Weight: aws.Int64(0)},
				{Name: "www.example.com", Type: "A", TTL: 300, Alias: &awsfake.Alias{DNSName: "lb.us-east-1.elb.amazonaws.com", HostedZoneID: "Z35SXDOTRQ7X7K"}},
			},
			want: map[string]int64{"app.example.com. A blue": 60, "app.example.com. A green": 60, "www.example.com. A ": -1},
		},
		{
			name: "invalid batch creates nothing",
			zone: zone,
			records: []awsfake.Record{
				{Name: "db.example.com", Type: "CNAME", TTL: 300, Values: []string{"db-a.internal"}},
				{Name: "bad.example.com", Type: "A", TTL: 60, Values: []string{"10.0.0.3"}, Weight: aws.Int64(1)},
			},
			wantErr: true,
			absent:  []string{"db.example.com. CNAME "},
		},
		{name: "duplicate", zone: zone, records: []awsfake.Record{{Name: "app.example.com", Type: "A", TTL: 60, Values: []string{"10.0.0.1"}, SetIdentifier: "blue", Weight: aws.Int64(1)}}, wantErr: true},
		{name: "unknown zone", zone: "ZNOPE", records: []awsfake.Record{{Name: "x.example.com", Type: "A", TTL: 60, Values: []string{"10.0.0.1"}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := srv.AddRecords(tt.zone, tt.records...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("AddRecords: err %v, want error %v", err, tt.wantErr)
			}
			got := recordSets()
			for k, ttl := range tt.want {
				if g, ok := got[k]; !ok || g != ttl {
					t.Errorf("record set %q: got TTL %d (present %v), want %d", k, g, ok, ttl)
				}
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("record set %q exists, want none", k)
				}
			}
		})
	}
}
