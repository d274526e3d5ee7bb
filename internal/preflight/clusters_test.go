//go:build testbed

package preflight

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/test/awsfake"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// TestChecksAgainstClusters runs the checks that read Kubernetes against
// two real API servers from the test bed, reused by every case: A with
// nodes in us-east-1a, B with one node in us-east-1a and one in us-east-1b.
// Each case undoes what it creates in the clusters.
func TestChecksAgainstClusters(t *testing.T) {
	a := testbed.StartT(t, testbed.Options{Name: "preflight-a", Nodes: 2, Zones: []string{"us-east-1a"}})
	b := testbed.StartT(t, testbed.Options{Name: "preflight-b", Nodes: 2, Zones: []string{"us-east-1a", "us-east-1b"}})

	t.Run("lb-controller", func(t *testing.T) { testLBController(t, b.Client) })
	t.Run("ebs-csi-version", func(t *testing.T) { testEBSCSIVersion(t, a.Client, b.Client) })
	t.Run("storage-class", func(t *testing.T) { testStorageClass(t, b.Client) })
	t.Run("volume-zones", func(t *testing.T) { testVolumeZones(t, b.Client) })
	t.Run("run", func(t *testing.T) { testRun(t, a.Client, b.Client) })
}

func testLBController(t *testing.T, kubeB kubernetes.Interface) {
	type deploy struct {
		ns, name string
		labels   map[string]string
		image    string
		ready    bool
	}
	byLabel := map[string]string{"app.kubernetes.io/name": lbControllerName}
	tests := []struct {
		name         string
		deploy       *deploy
		status       Status
		detail, hint []string
	}{
		{name: "absent", status: Fail,
			detail: []string{"no Deployment named aws-load-balancer-controller or labelled app.kubernetes.io/name=aws-load-balancer-controller in B (green)"},
			hint:   []string{"helm install aws-load-balancer-controller eks/aws-load-balancer-controller", "clusterName=green"}},
		{name: "by name in kube-system", deploy: &deploy{ns: "kube-system", name: lbControllerName, image: "public.ecr.aws/eks/aws-load-balancer-controller:v2.8.1", ready: true},
			status: Pass, detail: []string{"kube-system/aws-load-balancer-controller 1/1 ready (public.ecr.aws/eks/aws-load-balancer-controller:v2.8.1)"}},
		{name: "by label in another namespace", deploy: &deploy{ns: "lbc", name: "alb", labels: byLabel, image: "example.com/alb:v2.7.0", ready: true},
			status: Pass, detail: []string{"lbc/alb 1/1 ready"}},
		{name: "no ready replica", deploy: &deploy{ns: "kube-system", name: lbControllerName, image: "public.ecr.aws/eks/aws-load-balancer-controller:v2.8.1-unready"},
			status: Fail, detail: []string{"no ready replica", "kube-system/aws-load-balancer-controller 0/1 ready"},
			hint: []string{"kubectl -n kube-system describe deployment aws-load-balancer-controller"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := world{}.start(t)
			in.Target.Kube = kubeB
			if d := tt.deploy; d != nil {
				deployment(t, kubeB, d.ns, d.name, d.labels, "controller", d.image)
				waitDeployment(t, kubeB, d.ns, d.name, d.ready)
			}
			wantResult(t, runCheck(t, "lb-controller", in), tt.status, tt.detail, tt.hint)
		})
	}
}

func testEBSCSIVersion(t *testing.T, kubeA, kubeB kubernetes.Interface) {
	const image = "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:"
	tests := []struct {
		name         string
		w            world
		imageA       string // self-managed driver in A; "" = none
		noCSIDriver  bool
		status       Status
		detail, hint []string
	}{
		{name: "same add-on", status: Pass,
			detail: []string{"A (blue): v1.35.0-eksbuild.1 (EKS add-on); B (green): v1.35.0-eksbuild.1 (EKS add-on)", "CSIDriver ebs.csi.aws.com registered in B (green)"}},
		{name: "add-on versions differ", w: world{addonB: "v1.30.0-eksbuild.1"}, status: Fail,
			detail: []string{"A (blue): v1.35.0-eksbuild.1", "B (green): v1.30.0-eksbuild.1", "driver versions differ"},
			hint:   []string{"aws eks update-addon --cluster-name green --addon-name aws-ebs-csi-driver --addon-version v1.35.0-eksbuild.1"}},
		{name: "self-managed driver in A of the same version", w: world{addonA: "-"}, imageA: image + "v1.35.0", status: Pass,
			detail: []string{"A (blue): v1.35.0 (image " + image + "v1.35.0)"}},
		{name: "self-managed driver in A of another version", w: world{addonA: "-"}, imageA: image + "v1.28.0", status: Fail,
			detail: []string{"A (blue): v1.28.0", "driver versions differ"}},
		{name: "no driver in A", w: world{addonA: "-"}, status: Fail,
			detail: []string{"A (blue): not installed"}, hint: []string{"aws eks create-addon --cluster-name blue", "--addon-version v1.35.0-eksbuild.1 (the version of B (green))"}},
		{name: "no driver in B", w: world{addonB: "-"}, status: Fail,
			detail: []string{"B (green): not installed"}, hint: []string{"aws eks create-addon --cluster-name green"}},
		{name: "no CSIDriver in B", noCSIDriver: true, status: Fail,
			detail: []string{"B (green) has no CSIDriver ebs.csi.aws.com"}, hint: []string{"reinstall the driver"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := tt.w.start(t)
			in.Source.Kube, in.Target.Kube = kubeA, kubeB
			if !tt.noCSIDriver {
				csiDriver(t, kubeB)
			}
			if tt.imageA != "" {
				deployment(t, kubeA, metav1.NamespaceSystem, ebsCSIController, nil, ebsCSIPlugin, tt.imageA)
			}
			wantResult(t, runCheck(t, "ebs-csi-version", in), tt.status, tt.detail, tt.hint)
		})
	}
}

func testStorageClass(t *testing.T, kubeB kubernetes.Interface) {
	storageClass(t, kubeB, "gp3", ebsCSIDriver)
	storageClass(t, kubeB, "gp2", "kubernetes.io/aws-ebs")
	tests := []struct {
		name         string
		volumes      []Volume
		status       Status
		detail, hint []string
	}{
		{name: "class exists", volumes: []Volume{{PV: "pv-1", VolumeID: volumeA, StorageClass: "gp3"}, {PV: "pv-2", VolumeID: volumeA, StorageClass: "gp3"}},
			status: Pass, detail: []string{"B (green) has storage classes gp3"}},
		{name: "class missing", volumes: []Volume{{PV: "pv-1", StorageClass: "gp3"}, {PV: "pv-2", StorageClass: "io2"}, {PV: "pv-3", StorageClass: "io2"}},
			status: Fail, detail: []string{"B (green) has no storage class io2 (for pv-2, pv-3)"}, hint: []string{"provisioner ebs.csi.aws.com"}},
		{name: "in-tree provisioner", volumes: []Volume{{PV: "pv-1", StorageClass: "gp2"}},
			status: Warn, detail: []string{"gp2 (provisioner kubernetes.io/aws-ebs)"}},
		{name: "no class named", volumes: []Volume{{PV: "pv-1"}},
			status: Warn, detail: []string{"no storage class named for pv-1"}},
		{name: "no volumes", status: Pass, detail: []string{"no volumes to hand off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := world{}.start(t)
			in.Target.Kube = kubeB
			in.Volumes = tt.volumes
			wantResult(t, runCheck(t, "storage-class", in), tt.status, tt.detail, tt.hint)
		})
	}
}

func testVolumeZones(t *testing.T, kubeB kubernetes.Interface) {
	tests := []struct {
		name         string
		w            world
		volumeID     string // "" = volumeA
		cordonZone   string
		status       Status
		detail, hint []string
	}{
		{name: "zone with nodes", status: Pass,
			detail: []string{volumeA + " (PV pvc-data-db-0) in us-east-1a", "B (green)'s nodes are in us-east-1a (1), us-east-1b (1)"}},
		{name: "in-tree volume id", volumeID: "aws://us-east-1a/" + volumeA, status: Pass, detail: []string{volumeA + " (PV pvc-data-db-0) in us-east-1a"}},
		{name: "zone without nodes", w: world{volumeAZ: "us-east-1c"}, status: Fail,
			detail: []string{volumeA + " (PV pvc-data-db-0) in us-east-1c: no schedulable node of B (green) in that zone", "us-east-1a (1), us-east-1b (1)"},
			hint:   []string{"add nodes to B (green) in us-east-1c"}},
		{name: "zone with cordoned nodes only", w: world{volumeAZ: "us-east-1b"}, cordonZone: "us-east-1b", status: Fail,
			detail: []string{"in us-east-1b: no schedulable node", "B (green)'s nodes are in us-east-1a (1)"}},
		{name: "unknown volume", volumeID: "vol-0ddddddddddddddd4", status: Fail,
			detail: []string{"ec2:DescribeVolumes vol-0ddddddddddddddd4: InvalidVolume.NotFound"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := tt.w.start(t)
			in.Target.Kube = kubeB
			if tt.volumeID != "" {
				in.Volumes[0].VolumeID = tt.volumeID
			}
			if tt.cordonZone != "" {
				cordon(t, kubeB, tt.cordonZone)
			}
			wantResult(t, runCheck(t, "volume-zones", in), tt.status, tt.detail, tt.hint)
		})
	}
}

// testRun runs the whole worksheet: a baseline where everything passes,
// then each failure the runbook's worksheet must catch, which must fail
// its own check and no other.
func testRun(t *testing.T, kubeA, kubeB kubernetes.Interface) {
	lbController(t, kubeB)
	csiDriver(t, kubeB)
	storageClass(t, kubeB, "gp3", ebsCSIDriver)

	tests := []struct {
		name     string
		w        world
		edit     func(t *testing.T, in *Input)
		wantFail string // "" = every check passes
	}{
		{name: "baseline"},
		{name: "different VPC", w: world{vpcB: vpcOther}, wantFail: "same-vpc"},
		{name: "missing OIDC provider", w: world{oidcProviders: []string{issuerA}}, wantFail: "oidc-provider"},
		{name: "missing LB controller", edit: func(t *testing.T, _ *Input) { removeLBController(t, kubeB) }, wantFail: "lb-controller"},
		{name: "mismatched CSI versions", w: world{addonB: "v1.30.0-eksbuild.1"}, wantFail: "ebs-csi-version"},
		{name: "storage class missing in B", edit: func(_ *testing.T, in *Input) { in.Volumes[0].StorageClass = "io2" }, wantFail: "storage-class"},
		{name: "TTL 300", w: world{ttlGreen: 300}, wantFail: "record-ttl"},
		{name: "LB subnet not admitted", w: world{ingressB: []awsfake.IngressRule{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"10.0.1.0/24"}}}}, wantFail: "security-groups"},
		{name: "volume in an AZ without B nodes", w: world{volumeAZ: "us-east-1c"}, wantFail: "volume-zones"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := tt.w.start(t)
			in.Source.Kube, in.Target.Kube = kubeA, kubeB
			if tt.edit != nil {
				tt.edit(t, &in)
			}
			rs := Run(t.Context(), in)
			if len(rs) != len(Names()) {
				t.Fatalf("got %d results, want %d", len(rs), len(Names()))
			}
			for _, r := range rs {
				want := Pass
				if r.Name == tt.wantFail {
					want = Fail
				}
				if r.Status != want {
					t.Errorf("%s: %s, want %s\ndetail: %s\nhint: %s", r.Name, r.Status, want, r.Detail, r.Hint)
				} else if r.Status == Fail && r.Hint == "" {
					t.Errorf("%s: failed without a hint", r.Name)
				}
			}
			if Failed(rs) != (tt.wantFail != "") {
				t.Errorf("Failed = %v, want %v", Failed(rs), tt.wantFail != "")
			}
		})
	}
}
