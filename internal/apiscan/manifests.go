package apiscan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Finding is one object that uses an API version the target release no
// longer serves.
type Finding struct {
	// Source says where the object was found: "<file>#<document>" (with
	// " items[<i>]" for an item of a List) for a manifest, or
	// "live: <Kind> <namespace>/<name> (last-applied)" and
	// "live: <Kind> <namespace>/<name> (managedFields by <manager>)" for a
	// cluster.
	Source string `json:"source"`
	// File is the manifest's name as given to ScanManifests; empty for a
	// live object.
	File string `json:"file,omitempty"`
	// Document is the 0-based index of the document in File, counting
	// empty documents; -1 for a live object.
	Document int `json:"document"`
	// Item is the 0-based index in the items of a List document, -1 when
	// the object is not a List item.
	Item int `json:"item"`
	// Kind, Namespace and Name identify the object; Namespace is empty for
	// a cluster-scoped object or a manifest that does not set it.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Removal is the table row that matched: the removed apiVersion, the
	// release that removed it, the replacement and the migration note.
	Removal Removal `json:"removal"`
}

// String returns a one-line summary, e.g. "deploy.yaml#0: Deployment
// shop/web uses extensions/v1beta1, removed in 1.16; use apps/v1".
func (f Finding) String() string {
	obj := f.Name
	if f.Namespace != "" {
		obj = f.Namespace + "/" + f.Name
	}
	use := "no replacement"
	if f.Removal.Replacement != "" {
		use = "use " + f.Removal.Replacement
	}
	return fmt.Sprintf("%s: %s %s uses %s, removed in %s; %s",
		f.Source, f.Kind, obj, f.Removal.APIVersion, f.Removal.RemovedIn, use)
}

// ScanManifests reports every object in files (name → content) whose
// apiVersion and kind the release target no longer serves. A file holds
// YAML documents separated by "---" lines, or a stream of JSON objects;
// List kinds ("List", "DeploymentList", ...) are scanned item by item, and
// empty documents are skipped. A document that does not parse, or is not
// a Kubernetes object (a mapping with apiVersion and kind), is an error
// naming the file and the document. Findings are ordered by file name,
// document and item.
func ScanManifests(target string, files map[string][]byte) ([]Finding, error) {
	v, err := ParseVersion(target)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Finding
	for _, name := range names {
		docs, err := splitDocuments(files[name])
		if err != nil {
			return nil, fmt.Errorf("read manifest %s: %w", name, err)
		}
		for i, doc := range docs {
			found, err := scanDocument(v, name, i, doc)
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		}
	}
	return out, nil
}

// scanDocument parses document i of file and checks the object, or the
// items of a List, against the table.
func scanDocument(target Version, file string, i int, doc []byte) ([]Finding, error) {
	var obj map[string]any
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		return nil, fmt.Errorf("parse manifest %s document %d: %w", file, i, err)
	}
	if obj == nil {
		return nil, nil // empty, or only comments
	}
	var out []Finding
	err := walkObject(obj, "", "", -1, func(o object, item int) {
		r, ok := removedBy(o.apiVersion, o.kind, target)
		if !ok {
			return
		}
		src := fmt.Sprintf("%s#%d", file, i)
		if item >= 0 {
			src += fmt.Sprintf(" items[%d]", item)
		}
		out = append(out, Finding{
			Source: src, File: file, Document: i, Item: item,
			Kind: o.kind, Namespace: o.namespace, Name: o.name, Removal: r,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("manifest %s document %d: %w", file, i, err)
	}
	return out, nil
}

// object is what a scan needs of a manifest object.
type object struct {
	apiVersion, kind, namespace, name string
}

// walkObject calls visit for obj, or for every item when obj is a List.
// Items of a typed list ("DeploymentList") may leave out apiVersion and
// kind; they inherit the list's apiVersion and the kind without "List".
func walkObject(obj map[string]any, defAPIVersion, defKind string, item int, visit func(object, int)) error {
	o := object{apiVersion: str(obj["apiVersion"]), kind: str(obj["kind"])}
	if o.apiVersion == "" {
		o.apiVersion = defAPIVersion
	}
	if o.kind == "" {
		o.kind = defKind
	}
	if o.apiVersion == "" || o.kind == "" {
		return errors.New("not a Kubernetes object: apiVersion and kind are required")
	}
	if items, isList := obj["items"].([]any); isList && strings.HasSuffix(o.kind, "List") {
		itemKind := strings.TrimSuffix(o.kind, "List")
		for j, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return fmt.Errorf("%s items[%d]: not an object", o.kind, j)
			}
			if err := walkObject(m, o.apiVersion, itemKind, j, visit); err != nil {
				return fmt.Errorf("%s items[%d]: %w", o.kind, j, err)
			}
		}
		return nil
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		o.namespace, o.name = str(md["namespace"]), str(md["name"])
	}
	visit(o, item)
	return nil
}

// str returns v if it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// splitDocuments splits a manifest into its documents, in order, keeping
// empty ones so that indexes match what a reader counts. A file whose
// first non-blank character is '{' is read as a stream of JSON objects.
func splitDocuments(data []byte) ([][]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return splitJSON(trimmed)
	}
	return splitYAML(data)
}

// splitJSON splits a stream of JSON values.
func splitJSON(data []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs [][]byte
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs), err)
		}
		docs = append(docs, raw)
	}
}

// splitYAML splits YAML at document separators: lines that are "---",
// optionally followed by a space and a comment. Text before a first
// separator that holds only blanks and comments is not a document of its
// own, so a file starting with "---" numbers its first object 0.
func splitYAML(data []byte) ([][]byte, error) {
	var docs [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for sc.Scan() {
		line := sc.Bytes()
		if isSeparator(line) {
			docs = append(docs, slices.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.Write(line)
		cur.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	docs = append(docs, cur.Bytes())
	if len(docs) > 1 && blank(docs[0]) {
		docs = docs[1:]
	}
	return docs, nil
}

// isSeparator reports whether line separates YAML documents.
func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(bytes.TrimRight(line, " \t\r"), []byte("---"))
	if !ok {
		return false
	}
	return len(rest) == 0 || (rest[0] == ' ' || rest[0] == '\t') && bytes.HasPrefix(bytes.TrimSpace(rest), []byte("#"))
}

// blank reports whether doc holds only whitespace and comments.
func blank(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		l := bytes.TrimSpace(line)
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
}
