package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// This file holds the EKS REST-JSON API: DescribeCluster
// (GET /clusters/{name}) and DescribeAddon
// (GET /clusters/{name}/addons/{addonName}).

// EKSCluster seeds an EKS cluster.
type EKSCluster struct {
	// Name is the cluster name.
	Name string
	// Version is the Kubernetes minor version, e.g. "1.29".
	Version string
	// VpcID is the cluster's VPC.
	VpcID string
	// SubnetIDs are the subnets given to the control plane.
	SubnetIDs []string
	// SecurityGroupIDs are the additional security groups of the
	// control plane's network interfaces.
	SecurityGroupIDs []string
	// ClusterSecurityGroupID is the security group EKS creates for the
	// cluster, shared by the control plane and managed nodes.
	ClusterSecurityGroupID string
	// OIDCIssuer is identity.oidc.issuer, e.g.
	// "https://oidc.eks.us-east-1.amazonaws.com/id/ABC".
	OIDCIssuer string
	// Endpoint is the API server URL; empty means a made-up EKS one.
	Endpoint string
	// Status is the cluster status; empty means "ACTIVE".
	Status string
}

type eksState struct {
	clusters map[string]*eksCluster
}

type eksCluster struct {
	EKSCluster
	created time.Time
	addons  map[string]*eksAddon
}

type eksAddon struct {
	name, version, arn string
	created            time.Time
}

func (e *eksState) init() { e.clusters = map[string]*eksCluster{} }

// AddCluster adds or replaces an EKS cluster (keeping its add-ons).
func (s *Server) AddCluster(c EKSCluster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Status == "" {
		c.Status = "ACTIVE"
	}
	if c.Endpoint == "" {
		c.Endpoint = "https://" + strings.ToUpper(randHex(32)) + ".gr7.us-east-1.eks.amazonaws.com"
	}
	c.SubnetIDs = slices.Clone(c.SubnetIDs)
	c.SecurityGroupIDs = slices.Clone(c.SecurityGroupIDs)
	addons := map[string]*eksAddon{}
	if old, ok := s.eks.clusters[c.Name]; ok {
		addons = old.addons
	}
	s.eks.clusters[c.Name] = &eksCluster{EKSCluster: c, created: s.now(), addons: addons}
}

// AddAddon installs (or upgrades) an EKS add-on, e.g.
// ("blue", "aws-ebs-csi-driver", "v1.35.0-eksbuild.1"). The cluster must
// have been added first.
func (s *Server) AddAddon(cluster, name, version string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.eks.clusters[cluster]
	if !ok {
		return fmt.Errorf("add addon %s: cluster %s was not added", name, cluster)
	}
	arn := "arn:aws:eks:us-east-1:" + s.opts.AccountID + ":addon/" + cluster + "/" + name + "/" + newRequestID()
	c.addons[name] = &eksAddon{name: name, version: version, arn: arn, created: s.now()}
	return nil
}

type eksError struct {
	status             int
	code, msg          string
	clusterName, addon string
}

func (s *Server) serveEKS(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/clusters"), "/"), "/")
	s.mu.Lock()
	out, apiErr := s.routeEKS(r, parts)
	s.mu.Unlock()
	if apiErr != nil {
		writeEKSError(w, reqID, apiErr)
		return
	}
	writeJSON(w, http.StatusOK, reqID, out)
}

func (s *Server) routeEKS(r *http.Request, parts []string) (any, *eksError) {
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] != "":
		c, err := s.eksCluster(parts[0])
		if err != nil {
			return nil, err
		}
		return map[string]any{"cluster": s.clusterJSON(c)}, nil
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "addons":
		c, err := s.eksCluster(parts[0])
		if err != nil {
			return nil, err
		}
		a, ok := c.addons[parts[2]]
		if !ok {
			return nil, &eksError{status: http.StatusNotFound, code: "ResourceNotFoundException",
				msg: fmt.Sprintf("No addon: %s found in cluster: %s", parts[2], c.Name), clusterName: c.Name, addon: parts[2]}
		}
		return map[string]any{"addon": s.addonJSON(c, a)}, nil
	}
	return nil, &eksError{status: http.StatusBadRequest, code: "InvalidAction",
		msg: fmt.Sprintf("awsfake: unsupported EKS request %s %s", r.Method, r.URL.Path)}
}

func (s *Server) eksCluster(name string) (*eksCluster, *eksError) {
	c, ok := s.eks.clusters[name]
	if !ok {
		return nil, &eksError{status: http.StatusNotFound, code: "ResourceNotFoundException",
			msg: fmt.Sprintf("No cluster found for name: %s.", name), clusterName: name}
	}
	return c, nil
}

type eksVpcConfigJSON struct {
	SubnetIDs              []string `json:"subnetIds"`
	SecurityGroupIDs       []string `json:"securityGroupIds"`
	ClusterSecurityGroupID string   `json:"clusterSecurityGroupId,omitempty"`
	VpcID                  string   `json:"vpcId"`
	EndpointPublicAccess   bool     `json:"endpointPublicAccess"`
	EndpointPrivateAccess  bool     `json:"endpointPrivateAccess"`
	PublicAccessCidrs      []string `json:"publicAccessCidrs"`
}

type eksClusterJSON struct {
	Name                 string           `json:"name"`
	ARN                  string           `json:"arn"`
	CreatedAt            float64          `json:"createdAt"`
	Version              string           `json:"version"`
	Endpoint             string           `json:"endpoint"`
	RoleARN              string           `json:"roleArn"`
	ResourcesVpcConfig   eksVpcConfigJSON `json:"resourcesVpcConfig"`
	Identity             *eksIdentityJSON `json:"identity,omitempty"`
	Status               string           `json:"status"`
	CertificateAuthority struct {
		Data string `json:"data"`
	} `json:"certificateAuthority"`
	PlatformVersion string            `json:"platformVersion"`
	Tags            map[string]string `json:"tags"`
}

type eksIdentityJSON struct {
	OIDC struct {
		Issuer string `json:"issuer"`
	} `json:"oidc"`
}

type eksAddonJSON struct {
	AddonName    string  `json:"addonName"`
	ClusterName  string  `json:"clusterName"`
	Status       string  `json:"status"`
	AddonVersion string  `json:"addonVersion"`
	AddonARN     string  `json:"addonArn"`
	CreatedAt    float64 `json:"createdAt"`
	ModifiedAt   float64 `json:"modifiedAt"`
	Health       struct {
		Issues []string `json:"issues"`
	} `json:"health"`
	Tags map[string]string `json:"tags"`
}

func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (s *Server) clusterJSON(c *eksCluster) eksClusterJSON {
	x := eksClusterJSON{
		Name: c.Name, ARN: "arn:aws:eks:us-east-1:" + s.opts.AccountID + ":cluster/" + c.Name,
		CreatedAt: epochSeconds(c.created), Version: c.Version, Endpoint: c.Endpoint,
		RoleARN: "arn:aws:iam::" + s.opts.AccountID + ":role/eks-cluster-" + c.Name,
		ResourcesVpcConfig: eksVpcConfigJSON{
			SubnetIDs: nonNil(c.SubnetIDs), SecurityGroupIDs: nonNil(c.SecurityGroupIDs),
			ClusterSecurityGroupID: c.ClusterSecurityGroupID, VpcID: c.VpcID,
			EndpointPublicAccess: true, PublicAccessCidrs: []string{"0.0.0.0/0"},
		},
		Status: c.Status, PlatformVersion: "eks.1", Tags: map[string]string{},
	}
	x.CertificateAuthority.Data = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
	if c.OIDCIssuer != "" {
		x.Identity = &eksIdentityJSON{}
		x.Identity.OIDC.Issuer = c.OIDCIssuer
	}
	return x
}

func (s *Server) addonJSON(c *eksCluster, a *eksAddon) eksAddonJSON {
	x := eksAddonJSON{
		AddonName: a.name, ClusterName: c.Name, Status: "ACTIVE", AddonVersion: a.version,
		AddonARN:  a.arn,
		CreatedAt: epochSeconds(a.created), ModifiedAt: epochSeconds(a.created), Tags: map[string]string{},
	}
	x.Health.Issues = []string{}
	return x
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeEKSError writes a REST-JSON error: the code in the
// x-amzn-ErrorType header (which the SDK reads first), the message and
// the exception's members in the body.
func writeEKSError(w http.ResponseWriter, reqID string, e *eksError) {
	body := map[string]any{"message": e.msg}
	if e.clusterName != "" {
		body["clusterName"] = e.clusterName
	}
	if e.addon != "" {
		body["addonName"] = e.addon
	}
	w.Header().Set("x-amzn-ErrorType", e.code)
	writeJSON(w, e.status, reqID, body)
}

func writeJSON(w http.ResponseWriter, status int, reqID string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "awsfake: marshal response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
