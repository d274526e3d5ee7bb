package preflight

import (
	"context"
	"errors"
	"fmt"
	"github.com/distribution/reference"
	"regexp"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// ebsCSIAddon is the EKS add-on name of the EBS CSI driver.
	ebsCSIAddon = "aws-ebs-csi-driver"
	// ebsCSIDriver is the driver's CSIDriver name and PV spec.csi.driver.
	ebsCSIDriver = "ebs.csi.aws.com"
	// ebsCSIController and ebsCSIPlugin are the Deployment and container
	// of a self-managed driver (Helm chart or manifests) in kube-system.
	ebsCSIController = "ebs-csi-controller"
	ebsCSIPlugin     = "ebs-plugin"
)

// driverVersion is where a cluster's EBS CSI driver version came from.
type driverVersion struct {
	version string // "" when the driver is not installed
	source  string
}

func (v driverVersion) String() string {
	if v.version == "" {
		return "not installed"
	}
	return v.version + " (" + v.source + ")"
}

// eksBuild matches the EKS packaging suffix of an add-on version.
var eksBuild = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`-eksbuild\.\d+$`) })

// driver returns the driver's own version, without the EKS build suffix:
// add-on v1.35.0-eksbuild.1 packages driver image v1.35.0.
func (v driverVersion) driver() string { return eksBuild().ReplaceAllString(v.version, "") }

// checkEBSCSIVersion: a handed-off volume must mount in B exactly as in A
// (same volume handle and fsType handling), so both clusters run the same
// EBS CSI driver version and B has the driver registered.
func checkEBSCSIVersion(ctx context.Context, p *probe) Result {
	sideA, sideB := side("A", p.in.Source), side("B", p.in.Target)
	a, err := p.ebsCSIVersion(ctx, "A", p.in.Source)
	if err != nil {
		return errorResult(err)
	}
	b, err := p.ebsCSIVersion(ctx, "B", p.in.Target)
	if err != nil {
		return errorResult(err)
	}
	kubeB, err := kubeOf("B", p.in.Target)
	if err != nil {
		return errorResult(err)
	}
	_, err = kubeB.StorageV1().CSIDrivers().Get(ctx, ebsCSIDriver, metav1.GetOptions{})
	registered := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return kubeError(sideB, "get CSIDriver "+ebsCSIDriver, err)
	}
	detail := fmt.Sprintf("%s: %s; %s: %s", sideA, a, sideB, b)
	switch {
	case a.version == "" || b.version == "":
		missing, other, otherSide := p.in.Target.Name, a, sideA
		if a.version == "" {
			missing, other, otherSide = p.in.Source.Name, b, sideB
		}
		hint := fmt.Sprintf("install the EBS CSI driver: aws eks create-addon --cluster-name %s --addon-name %s --service-account-role-arn <role>", missing, ebsCSIAddon)
		if other.version != "" {
			hint += fmt.Sprintf(" --addon-version %s (the version of %s)", other.version, otherSide)
		}
		return Result{Status: Fail, Detail: detail, Hint: hint}
	case a.driver() != b.driver():
		return Result{Status: Fail, Detail: detail + ": the driver versions differ",
			Hint: fmt.Sprintf("run the same driver in both: aws eks update-addon --cluster-name %s --addon-name %s --addon-version %s (or the chart or image of that version)",
				p.in.Target.Name, ebsCSIAddon, a.version)}
	case !registered:
		return Result{Status: Fail, Detail: detail + fmt.Sprintf("; but %s has no CSIDriver %s", sideB, ebsCSIDriver),
			Hint: fmt.Sprintf("reinstall the driver in %s (the add-on or Helm chart creates the CSIDriver object)", sideB)}
	}
	return Result{Status: Pass, Detail: detail + fmt.Sprintf("; CSIDriver %s registered in %s", ebsCSIDriver, sideB)}
}

// ebsCSIVersion reads the EKS add-on's version, or, when the cluster has
// no such add-on, the image tag of a self-managed driver's controller.
func (p *probe) ebsCSIVersion(ctx context.Context, letter string, c Cluster) (driverVersion, error) {
	if c.Name != "" {
		if p.in.AWS == nil || p.in.AWS.EKS == nil {
			return driverVersion{}, errNoClient("EKS")
		}
		out, err := p.in.AWS.EKS.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(c.Name), AddonName: aws.String(ebsCSIAddon)})
		var notFound *ekstypes.ResourceNotFoundException
		switch {
		case err == nil && out.Addon != nil && aws.ToString(out.Addon.AddonVersion) != "":
			return driverVersion{version: aws.ToString(out.Addon.AddonVersion), source: "EKS add-on"}, nil
		case err != nil && !errors.As(err, &notFound):
			return driverVersion{}, apiError("eks:DescribeAddon", c.Name+"/"+ebsCSIAddon, err)
		}
	}
	kube, err := kubeOf(letter, c)
	if err != nil {
		return driverVersion{}, err
	}
	d, err := kube.AppsV1().Deployments(metav1.NamespaceSystem).Get(ctx, ebsCSIController, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return driverVersion{source: "no add-on, no kube-system/" + ebsCSIController}, nil
	}
	if err != nil {
		return driverVersion{}, fmt.Errorf("get deployment kube-system/%s in %s: %w", ebsCSIController, side(letter, c), err)
	}
	img := imageOf(*d, ebsCSIPlugin)
	if img == "" {
		return driverVersion{}, fmt.Errorf("deployment kube-system/%s in %s has no container %s", ebsCSIController, side(letter, c), ebsCSIPlugin)
	}
	return driverVersion{version: imageTag(img), source: "image " + img}, nil
}

// imageTag returns an image reference's tag, "latest" when it has none
// (or when it does not parse: the version is then read as unknown).
func imageTag(image string) string {
	if ref, err := reference.ParseNormalizedNamed(image); err == nil {
		if t, ok := ref.(reference.Tagged); ok {
			return t.Tag()
		}
	}
	return "latest"
}
