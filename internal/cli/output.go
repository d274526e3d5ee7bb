package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
)

// viewAPIVersion is the apiVersion of the documents -o prints: bluegreen's
// views (a status, a plan, a run's outcome) are printed as kubectl prints
// objects, self-describing.
const viewAPIVersion = "bluegreen.dev/v1alpha1"

// outputHelp is -o's help.
const outputHelp = "output format: text, json, yaml, name or jsonpath=TEMPLATE (e.g. jsonpath='{.active}')"

// checkOutput validates -o before anything is read.
func checkOutput(o string) error {
	switch {
	case o == "text", o == "json", o == "yaml", o == "name":
		return nil
	case strings.HasPrefix(o, "jsonpath="):
		if _, err := printers.NewJSONPathPrinter(strings.TrimPrefix(o, "jsonpath=")); err != nil {
			return usageErr("-o %s: %v", o, err)
		}
		return nil
	}
	return usageErr("-o/--output %q: want text, json, yaml, name or jsonpath=TEMPLATE", o)
}

// structured reports whether -o asks for one document rather than text.
func (g *Global) structured() bool { return g.Output != "" && g.Output != "text" }

// emit prints v, a view of the given kind named name, as -o asks, with
// cli-runtime's printers: one document per invocation. A view that is not
// a JSON object (a list) is printed as its items.
func (g *Global) emit(kind, name string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	obj := map[string]any{}
	if len(raw) == 0 || raw[0] != '{' {
		var items any
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
		obj["items"] = items
	} else if err := json.Unmarshal(raw, &obj); err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetAPIVersion(viewAPIVersion)
	u.SetKind(kind)
	if name != "" {
		u.SetName(name)
	}
	return g.print(u, kind)
}

// emitObjects prints Kubernetes objects as kubectl's --dry-run=client -o
// does: one List, which kubectl apply takes back as it is.
func (g *Global) emitObjects(objs []*unstructured.Unstructured) error {
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{}}}
	for _, u := range objs {
		list.Items = append(list.Items, *u)
	}
	return g.print(list, "List")
}

// print prints obj with the cli-runtime printer -o names.
func (g *Global) print(obj runtime.Object, kind string) error {
	var p printers.ResourcePrinter
	switch o := g.Output; {
	case o == "yaml":
		p = &printers.YAMLPrinter{}
	case o == "name":
		p = &printers.NamePrinter{}
	case strings.HasPrefix(o, "jsonpath="):
		jp, err := printers.NewJSONPathPrinter(strings.TrimPrefix(o, "jsonpath="))
		if err != nil {
			return usageErr("-o %s: %v", o, err)
		}
		jp.AllowMissingKeys(false)
		p = jp
	default:
		p = &printers.JSONPrinter{}
	}
	if err := p.PrintObj(obj, g.out); err != nil {
		return fmt.Errorf("print %s as %s: %w", kind, g.Output, err)
	}
	if strings.HasPrefix(g.Output, "jsonpath=") {
		_, err := fmt.Fprintln(g.out)
		return err
	}
	return nil
}
