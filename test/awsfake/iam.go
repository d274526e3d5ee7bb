package awsfake

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// This file holds the IAM query API for OpenID Connect providers, which
// EKS's IAM roles for service accounts (IRSA) need in the target cluster.

const (
	iamAPIVersion = "2010-05-08"
	iamNamespace  = "https://iam.amazonaws.com/doc/2010-05-08/"
)

type iamState struct {
	providers map[string]*oidcProvider // ARN -> provider
	order     []string
}

type oidcProvider struct {
	arn, url  string // url without the scheme, as IAM stores it
	clientIDs []string
	created   time.Time
}

func (i *iamState) init() { i.providers = map[string]*oidcProvider{} }

// AddOIDCProvider registers an IAM OIDC identity provider for issuerURL
// (e.g. an EKS cluster's identity.oidc.issuer) and returns its ARN,
// arn:aws:iam::<account>:oidc-provider/<issuer without https://>. The
// provider's client IDs (audiences) are clientIDs, or sts.amazonaws.com,
// which IAM roles for service accounts need, when none are given. Adding
// the same issuer again replaces its client IDs and returns the same ARN.
func (s *Server) AddOIDCProvider(issuerURL string, clientIDs ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := strings.TrimSuffix(strings.TrimPrefix(issuerURL, "https://"), "/")
	arn := "arn:aws:iam::" + s.opts.AccountID + ":oidc-provider/" + u
	if len(clientIDs) == 0 {
		clientIDs = []string{"sts.amazonaws.com"}
	}
	if _, ok := s.iam.providers[arn]; !ok {
		s.iam.order = append(s.iam.order, arn)
	}
	s.iam.providers[arn] = &oidcProvider{arn: arn, url: u, clientIDs: slices.Clone(clientIDs), created: s.now()}
	return arn
}

func (s *Server) iamHandlers() map[string]queryHandler {
	return map[string]queryHandler{
		"ListOpenIDConnectProviders": s.iamListOIDCProviders,
		"GetOpenIDConnectProvider":   s.iamGetOIDCProvider,
	}
}

type oidcListEntryXML struct {
	ARN string `xml:"Arn"`
}

type listOIDCProvidersResult struct {
	Providers []oidcListEntryXML `xml:"OpenIDConnectProviderList>member"`
}

type getOIDCProviderResult struct {
	URL         string   `xml:"Url"`
	ClientIDs   []string `xml:"ClientIDList>member"`
	Thumbprints []string `xml:"ThumbprintList>member"`
	CreateDate  string   `xml:"CreateDate"`
}

func (s *Server) iamListOIDCProviders(url.Values) (any, *queryError) {
	out := &listOIDCProvidersResult{Providers: []oidcListEntryXML{}}
	for _, arn := range s.iam.order {
		out.Providers = append(out.Providers, oidcListEntryXML{ARN: arn})
	}
	return out, nil
}

func (s *Server) iamGetOIDCProvider(f url.Values) (any, *queryError) {
	arn := f.Get("OpenIDConnectProviderArn")
	if arn == "" {
		return nil, queryErrf(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value null at 'openIDConnectProviderArn' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(arn, "arn:aws:iam::") {
		return nil, queryErrf(http.StatusBadRequest, "InvalidInput", "ARN %s is not valid.", arn)
	}
	p, ok := s.iam.providers[arn]
	if !ok {
		return nil, queryErrf(http.StatusNotFound, "NoSuchEntity", "OpenIDConnect Provider not found for arn %s", arn)
	}
	return &getOIDCProviderResult{
		URL: p.url, ClientIDs: p.clientIDs,
		Thumbprints: []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"},
		CreateDate:  isoTime(p.created),
	}, nil
}
