// Command awsfake serves the AWS wire fake of package awsfake as its own
// process, for demos and manual runs: the real AWS CLI or any SDK pointed at
// the printed URL (--endpoint-url, AWS_ENDPOINT_URL) talks to it.
//
//	awsfake [--listen 127.0.0.1:0] [--seed seed.json]
//
// The first line of stdout is the base URL. The second is a JSON object
// with the generated IDs of seeded resources (hosted zone IDs, load
// balancer, target group and OIDC provider ARNs), which the seed cannot
// choose. The fake serves until interrupted. It is a test double and must
// never stand in for real AWS.
package main
