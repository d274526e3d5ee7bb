package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The binary must not link html/template: executing a template calls
// methods by name (reflect's MethodByName), so the linker keeps every
// exported method of every type. When the dashboard's pages used it, the
// binary grew from 62 to 138 MB and the controller's resident memory by
// 27 MiB. (text/template's parser alone, which client-go's JSONPath
// links, does not execute templates and costs nothing of the kind.)
func TestBinaryLinksNoTemplateExecution(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if slices.Contains(strings.Fields(string(out)), "html/template") {
		t.Error("bluegreen links html/template; write the output without it (see internal/dashboard/pages.go)")
	}
}
