package standby

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestRedactSecretData(t *testing.T) {
	secret := obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\n"+
		"data: {password: aHVudGVyMi1wYXNzd29yZA==}\n") // hunter2-password
	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "db", field.ErrorList{
		field.Invalid(field.NewPath("data", "password"), "hunter2-password", "too secret"),
		field.Invalid(field.NewPath("data", "password"), "aHVudGVyMi1wYXNzd29yZA==", "encoded"),
	})
	tests := []struct {
		name   string
		obj    string
		err    error
		isAPI  func(error) bool
		hidden bool
	}{
		{"api status error keeps its reason", "", invalid, apierrors.IsInvalid, true},
		{"plain error", "", errors.New("transport: sent hunter2-password"), nil, true},
		{"not a secret", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: db}\ndata: {password: hunter2-password}\n",
			errors.New("hunter2-password"), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := secret
			if tt.obj != "" {
				o = obj(t, tt.obj)
			}
			got := redactSecretData(o, tt.err)
			msg := got.Error()
			if tt.isAPI != nil {
				if !tt.isAPI(got) {
					t.Errorf("lost the API status: %#v", got)
				}
				var api apierrors.APIStatus
				if errors.As(got, &api) {
					for _, c := range api.Status().Details.Causes {
						msg += " " + c.Message
					}
				}
			}
			leaked := strings.Contains(msg, "hunter2-password") || strings.Contains(msg, "aHVudGVyMi1wYXNzd29yZA==")
			if leaked == tt.hidden {
				t.Fatalf("message %q: hidden = %v, want %v", msg, !leaked, tt.hidden)
			}
		})
	}
	if st := invalid.Status(); !strings.Contains(st.Details.Causes[0].Message, "hunter2-password") {
		t.Fatalf("redaction modified the original error: %+v", st)
	}
}
