package deploy

import (
	"errors"
	"fmt"
	"io"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// ClusterRole returns the ClusterRole name of rbac/file as shipped.
func ClusterRole(file, name string) (*rbacv1.ClusterRole, error) {
	data, err := RBAC.ReadFile("rbac/" + file)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096)
	for {
		var cr rbacv1.ClusterRole
		if err := dec.Decode(&cr); errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no ClusterRole %s in deploy/rbac/%s", name, file)
		} else if err != nil {
			return nil, fmt.Errorf("decode deploy/rbac/%s: %w", file, err)
		}
		if cr.Name == name {
			return &cr, nil
		}
	}
}
