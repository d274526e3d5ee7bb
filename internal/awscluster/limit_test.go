package awscluster

import (
	"context"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

// The clients stay under Route 53's five requests a second: twelve calls
// in a row take at least (12 − burst) ÷ rate. EC2 calls draw from a
// limiter per API, as EC2 throttles them.
func TestClientsKeepUnderQuotas(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(awsfake.Options{}).StartT(t)
	zone := fake.AddHostedZone("shop.example.")
	c := FromConfig(fake.AWSConfig())
	const calls = 12
	start := time.Now()
	for range calls {
		if _, err := c.Route53.ListResourceRecordSets(ctx, &r53sdk.ListResourceRecordSetsInput{HostedZoneId: sdkaws.String(zone)}); err != nil {
			t.Fatal(err)
		}
	}
	least := time.Duration(float64(calls-route53Burst) / route53Rate * float64(time.Second))
	if took := time.Since(start); took < least {
		t.Fatalf("%d Route 53 calls took %s: the client-side limit (%d/s, burst %d) needs at least %s", calls, took, route53Rate, route53Burst, least)
	}
	for range calls {
		if _, err := c.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if tokens := c.limits.EC2.of("DescribeVolumes").Tokens(); tokens > ec2Burst-calls+1 {
		t.Fatalf("DescribeVolumes' limiter has %.1f tokens after %d calls: the calls did not pass through it", tokens, calls)
	}
	if tokens := c.limits.EC2.of("DescribeSnapshots").Tokens(); tokens < ec2Burst-1 {
		t.Fatalf("DescribeSnapshots' limiter has %.1f tokens: EC2 limits each API on its own", tokens)
	}
}
