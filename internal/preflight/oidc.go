package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// stsAudience is the client ID (audience) IAM roles for service accounts
// need on the OIDC provider.
const stsAudience = "sts.amazonaws.com"

// checkOIDCProvider: the EBS CSI driver and the Load Balancer Controller
// get their AWS permissions through IAM roles for service accounts, which
// need an IAM OIDC provider for B's issuer.
func checkOIDCProvider(ctx context.Context, p *probe) Result {
	b, err := p.cluster(ctx, p.in.Target.Name)
	if err != nil {
		return errorResult(err)
	}
	sideB := side("B", p.in.Target)
	associate := fmt.Sprintf("eksctl utils associate-iam-oidc-provider --cluster %s --approve", p.in.Target.Name)
	issuer := ""
	if b.Identity != nil && b.Identity.Oidc != nil {
		issuer = aws.ToString(b.Identity.Oidc.Issuer)
	}
	if issuer == "" {
		return Result{Status: Fail, Detail: fmt.Sprintf("%s reports no OIDC issuer", sideB), Hint: associate}
	}
	if p.in.AWS == nil || p.in.AWS.IAM == nil {
		return errorResult(errNoClient("IAM"))
	}
	want := strings.TrimSuffix(strings.TrimPrefix(issuer, "https://"), "/")
	list, err := p.in.AWS.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return errorResult(apiError("iam:ListOpenIDConnectProviders", "", err))
	}
	arn := ""
	for _, e := range list.OpenIDConnectProviderList {
		if a := aws.ToString(e.Arn); strings.HasSuffix(a, ":oidc-provider/"+want) {
			arn = a
			break
		}
	}
	if arn == "" {
		return Result{Status: Fail,
			Detail: fmt.Sprintf("no IAM OIDC provider for %s's issuer %s among %d providers", sideB, issuer, len(list.OpenIDConnectProviderList)),
			Hint:   associate}
	}
	got, err := p.in.AWS.IAM.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if err != nil {
		return errorResult(apiError("iam:GetOpenIDConnectProvider", arn, err))
	}
	if u := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(got.Url), "https://"), "/"); u != want {
		return Result{Status: Fail, Detail: fmt.Sprintf("IAM OIDC provider %s has URL %s, not %s's issuer %s", arn, u, sideB, issuer), Hint: associate}
	}
	if !slices.Contains(got.ClientIDList, stsAudience) {
		return Result{Status: Warn,
			Detail: fmt.Sprintf("IAM OIDC provider %s for %s lacks the audience %s (has %s)", arn, sideB, stsAudience, strings.Join(got.ClientIDList, ", ")),
			Hint:   fmt.Sprintf("aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn %s --client-id %s", arn, stsAudience)}
	}
	return Result{Status: Pass, Detail: fmt.Sprintf("%s's issuer %s has IAM OIDC provider %s", sideB, issuer, arn)}
}
