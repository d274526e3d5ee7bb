package runstore

import "testing"

// The CRD that ships decodes, names the resource the store uses, and keeps
// a run's spec immutable and its status a subresource.
func TestShippedCRD(t *testing.T) {
	crd, err := CRD()
	if err != nil {
		t.Fatal(err)
	}
	if crd.GetName() != CRDName || crd.GetKind() != "CustomResourceDefinition" {
		t.Fatalf("CRD %s %s", crd.GetKind(), crd.GetName())
	}
	spec := crd.Object["spec"].(map[string]any)
	if spec["group"] != GVR.Group || spec["names"].(map[string]any)["plural"] != GVR.Resource {
		t.Fatalf("CRD serves %v/%v, the store uses %s", spec["group"], spec["names"], GVR)
	}
	v := spec["versions"].([]any)[0].(map[string]any)
	if v["name"] != GVR.Version || v["subresources"].(map[string]any)["status"] == nil {
		t.Fatalf("version %v lacks the status subresource or is not %s", v["name"], GVR.Version)
	}
	var walk func(path string, schema map[string]any)
	walk = func(path string, schema map[string]any) {
		switch schema["type"] {
		case "object", "string", "array", "boolean", "integer", "number":
		default:
			t.Errorf("%s: type %v is not an OpenAPI type", path, schema["type"])
		}
		props, _ := schema["properties"].(map[string]any)
		for name, p := range props {
			walk(path+"."+name, p.(map[string]any))
		}
	}
	walk("openAPIV3Schema", v["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any))
}
