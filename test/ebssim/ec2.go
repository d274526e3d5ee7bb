package ebssim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
)

// ebsVolume is what the simulator reads of a volume in EC2.
type ebsVolume struct {
	state string // creating, available, in-use, …
	// instance, attachState and device describe the volume's attachment;
	// instance is empty when it has none.
	instance, attachState, device string
}

// describe returns the EC2 view of volumeID.
func (s *Simulator) describe(ctx context.Context, volumeID string) (ebsVolume, error) {
	out, err := s.opts.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volumeID}})
	if err != nil {
		return ebsVolume{}, fmt.Errorf("describe volume %s: %w", volumeID, err)
	}
	if len(out.Volumes) != 1 {
		return ebsVolume{}, fmt.Errorf("describe volume %s: got %d volumes", volumeID, len(out.Volumes))
	}
	v := out.Volumes[0]
	got := ebsVolume{state: string(v.State)}
	for _, a := range v.Attachments {
		if a.State == "detached" {
			continue
		}
		got.instance = aws.ToString(a.InstanceId)
		got.attachState = string(a.State)
		got.device = aws.ToString(a.Device)
		break
	}
	return got, nil
}

// attachVolume calls AttachVolume.
func (s *Simulator) attachVolume(ctx context.Context, volumeID, instance, device string) error {
	_, err := s.opts.EC2.AttachVolume(ctx, &ec2.AttachVolumeInput{
		VolumeId: aws.String(volumeID), InstanceId: aws.String(instance), Device: aws.String(device),
	})
	if err != nil {
		return fmt.Errorf("attach volume %s to instance %s: %w", volumeID, instance, err)
	}
	return nil
}

// detachVolume calls DetachVolume.
func (s *Simulator) detachVolume(ctx context.Context, volumeID, instance string) error {
	_, err := s.opts.EC2.DetachVolume(ctx, &ec2.DetachVolumeInput{
		VolumeId: aws.String(volumeID), InstanceId: aws.String(instance),
	})
	if err != nil {
		return fmt.Errorf("detach volume %s from instance %s: %w", volumeID, instance, err)
	}
	return nil
}

// errorCode returns the EC2 error code of err, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// errorText returns err as a stable one-line message: an EC2 error's code
// and message without its request ID, so that repeated failures compare
// equal (events and logs are deduplicated on it).
func errorText(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()
	}
	return err.Error()
}

// deviceInUse reports whether err says the device name is taken on the
// instance (by a volume the simulator does not know of).
func deviceInUse(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidParameterValue" &&
		strings.Contains(apiErr.ErrorMessage(), "Attachment point") &&
		strings.Contains(apiErr.ErrorMessage(), "already in use")
}

// attachmentGone reports whether a DetachVolume error says there is no
// such attachment any more, so the detach is done.
func attachmentGone(err error) bool {
	switch errorCode(err) {
	case "IncorrectState", "InvalidAttachment.NotFound", "InvalidVolume.NotFound":
		return true
	}
	return false
}

// deviceNames are the device names the simulator hands out, /dev/xvdba to
// /dev/xvdzz, like the EBS CSI driver's two-letter names.
var deviceNames = func() []string {
	var out []string
	for a := 'b'; a <= 'z'; a++ {
		for b := 'a'; b <= 'z'; b++ {
			out = append(out, "/dev/xvd"+string(a)+string(b))
		}
	}
	return out
}()

// deviceAllocator hands out device names per instance; AWS refuses two
// volumes on one instance under the same name.
type deviceAllocator struct {
	mu   sync.Mutex
	used map[string]map[string]bool // instance -> device names in use
}

// allocate returns a free device name on instance and marks it used.
func (d *deviceAllocator) allocate(instance string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, name := range deviceNames {
		if !d.used[instance][name] {
			d.markLocked(instance, name)
			return name, nil
		}
	}
	return "", fmt.Errorf("allocate device on instance %s: all %d names in use", instance, len(deviceNames))
}

// mark records device as used on instance.
func (d *deviceAllocator) mark(instance, device string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.markLocked(instance, device)
}

func (d *deviceAllocator) markLocked(instance, device string) {
	if d.used[instance] == nil {
		d.used[instance] = map[string]bool{}
	}
	d.used[instance][device] = true
}

// release frees device on instance.
func (d *deviceAllocator) release(instance, device string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.used[instance], device)
}
