package runstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
)

// Labels on every BlueGreenRun, for listing.
const (
	LabelApp     = "bluegreen.dev/app"
	LabelScope   = "bluegreen.dev/scope"
	LabelCluster = "bluegreen.dev/cluster-id"
)

// ErrConflict means the record changed since this process last read or
// wrote it: another process is acting on the run.
var ErrConflict = errors.New("the run's record was changed by another process")

// Store keeps the runs of one namespace of one cluster. The service scope
// uses the app's namespace; the cluster scope the namespace of its Lease.
type Store struct {
	dyn       dynamic.ResourceInterface
	secrets   dynamic.ResourceInterface
	namespace string
	// clusterID returns the cluster's identity; it may still be on its way
	// from the API server when the store is made (see Identifying).
	clusterID func() (string, error)

	// install, when set, installs the CRD the first time a run is created
	// in a cluster that lacks it.
	install func(context.Context) error
	// copy makes the store overwrite what it finds (see Mirrored): a copy
	// follows its primary, it never competes with it.
	copy bool
	// sealed reads records as stored: values moved into a run's Secret
	// stay references (see Sealed).
	sealed bool

	mu      sync.Mutex
	rv      map[string]string // run ID → resourceVersion last read or written
	uid     map[string]string // run ID → its object's UID, for the Secret's owner
	written map[string]string // run ID → the data keys of its Secret as last written
}

var secretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// New returns the store of namespace ns in the cluster whose identity is
// clusterID (see kube.ClusterID); dyn reaches that cluster.
func New(dyn dynamic.Interface, ns, clusterID string) *Store {
	return Identifying(dyn, ns, func() (string, error) { return clusterID, nil })
}

// Identifying is New with the cluster's identity still being read:
// clusterID is called, from any goroutine, whenever the store needs it,
// and must return the same answer every time (sync.OnceValues). A command
// reads the identity and its runs at the same time this way.
func Identifying(dyn dynamic.Interface, ns string, clusterID func() (string, error)) *Store {
	return &Store{dyn: dyn.Resource(GVR).Namespace(ns), secrets: dyn.Resource(secretGVR).Namespace(ns), namespace: ns, clusterID: clusterID,
		rv: map[string]string{}, uid: map[string]string{}, written: map[string]string{}}
}

var _ journal.Store = (*Store)(nil)

// AutoInstall makes the store install the BlueGreenRun CRD (EnsureCRD
// through dyn) when the first run is created in a cluster without it.
func (s *Store) AutoInstall(clk clock.Clock, dyn dynamic.Interface) *Store {
	s.install = func(ctx context.Context) error { return EnsureCRD(ctx, clk, dyn) }
	return s
}

// Sealed makes the store read records as they are stored: the values
// moved into a run's Secret stay references. A view that shows runs needs
// no right to read Secrets then, and cannot show what they hold; a store
// that acts on runs must not be sealed.
func (s *Store) Sealed() *Store {
	s.sealed = true
	return s
}

// noCRD tells a create refused because the cluster does not serve
// BlueGreenRuns from one refused because the namespace does not exist.
func noCRD(err error) bool {
	var st apierrors.APIStatus
	if !apierrors.IsNotFound(err) || !errors.As(err, &st) {
		return false
	}
	d := st.Status().Details
	return d == nil || d.Kind != "namespaces"
}

// Save implements journal.Store.
func (s *Store) Save(ctx context.Context, r *journal.Run) error {
	return saveEncoded(ctx, r, s.SaveJSON)
}

// saveEncoded encodes r and writes it with saveJSON.
func saveEncoded(ctx context.Context, r *journal.Run, saveJSON func(context.Context, string, []byte) error) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	return saveJSON(ctx, r.ID, data)
}

// SaveJSON writes a run already encoded: the engine's group commit. The
// first write of a run creates its object; every write after it updates the
// status with the resourceVersion of the one before.
func (s *Store) SaveJSON(ctx context.Context, id string, data []byte) error {
	if s.sealed {
		// Its runs hold references in place of values: written back,
		// they would lose them.
		return fmt.Errorf("save run %s: a sealed store only reads", id)
	}
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("decode run %s: %w", id, err)
	}
	sl := newSealer()
	rec, _ := sl.seal(raw).(map[string]any)
	var head journal.Run
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("decode run %s: %w", id, err)
	}
	s.mu.Lock()
	rv, known := s.rv[id]
	s.mu.Unlock()
	if !known {
		created, err := s.create(ctx, &head)
		if err != nil {
			return err
		}
		rv = created
	}
	// The values first, so that the record never refers to one the
	// cluster does not hold.
	if err := s.saveSecret(ctx, id, sl.values); err != nil {
		return err
	}
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion(GVR.GroupVersion().String())
	obj.SetKind("BlueGreenRun")
	obj.SetName(objectName(id))
	obj.SetNamespace(s.namespace)
	obj.SetResourceVersion(rv)
	obj.Object["status"] = map[string]any{
		"state":     string(head.State),
		"step":      currentStep(&head),
		"reason":    head.Reason,
		"updatedAt": head.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		"record":    rec,
	}
	out, err := s.dyn.UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: fieldManager})
	if apierrors.IsConflict(err) && s.copy {
		if cur, gerr := s.dyn.Get(ctx, objectName(id), metav1.GetOptions{}); gerr == nil {
			obj.SetResourceVersion(cur.GetResourceVersion())
			out, err = s.dyn.UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: fieldManager})
		}
	}
	if apierrors.IsConflict(err) {
		return fmt.Errorf("save run %s in namespace %s: %w since it read it; stop and see where it stands with `bluegreen status`: %w",
			id, s.namespace, ErrConflict, err)
	}
	if err != nil {
		return fmt.Errorf("save run %s in namespace %s: %w", id, s.namespace, err)
	}
	s.remember(id, out.GetResourceVersion())
	return nil
}

// create makes the run's object with its immutable spec, or, when it
// exists (a first save after a restart that read nothing), fails: a
// process must read a run before it writes it.
func (s *Store) create(ctx context.Context, r *journal.Run) (string, error) {
	cluster, err := s.clusterID()
	if err != nil {
		return "", err
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"runID": r.ID, "scope": string(r.Scope), "operation": r.Operation, "app": r.App,
			"clusterID": cluster, "actor": r.Actor,
		},
	}}
	obj.SetAPIVersion(GVR.GroupVersion().String())
	obj.SetKind("BlueGreenRun")
	obj.SetName(objectName(r.ID))
	obj.SetNamespace(s.namespace)
	obj.SetLabels(map[string]string{LabelApp: labelValue(r.App), LabelScope: string(r.Scope), LabelCluster: cluster})
	out, err := s.dyn.Create(ctx, obj, metav1.CreateOptions{FieldManager: fieldManager})
	if noCRD(err) && s.install != nil {
		if ierr := s.install(ctx); ierr != nil {
			return "", fmt.Errorf("save run %s: %w", r.ID, ierr)
		}
		out, err = s.dyn.Create(ctx, obj, metav1.CreateOptions{FieldManager: fieldManager})
	}
	if err == nil {
		s.mu.Lock()
		s.uid[r.ID] = string(out.GetUID())
		s.mu.Unlock()
	}
	if apierrors.IsAlreadyExists(err) && s.copy {
		cur, gerr := s.dyn.Get(ctx, objectName(r.ID), metav1.GetOptions{})
		if gerr != nil {
			return "", fmt.Errorf("read the copy of run %s in namespace %s: %w", r.ID, s.namespace, gerr)
		}
		s.mu.Lock()
		s.uid[r.ID] = string(cur.GetUID())
		s.mu.Unlock()
		return cur.GetResourceVersion(), nil
	}
	if apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("save run %s in namespace %s: %w (it exists, and this process never read it)", r.ID, s.namespace, ErrConflict)
	}
	if noCRD(err) {
		return "", fmt.Errorf("save run %s in namespace %s: %w (install it with `kubectl apply --server-side -f deploy/crds/`): %w",
			r.ID, s.namespace, ErrNoCRD, err)
	}
	if err != nil {
		return "", fmt.Errorf("create the record of run %s in namespace %s: %w", r.ID, s.namespace, err)
	}
	return out.GetResourceVersion(), nil
}

// Version is the resourceVersion of run id as this store last read or
// wrote it ("" when it has not).
func (s *Store) Version(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rv[id]
}

func (s *Store) remember(id, rv string) {
	s.mu.Lock()
	s.rv[id] = rv
	s.mu.Unlock()
}

// secretName is the name of the Secret holding a run's sensitive values.
func secretName(id string) string { return "bluegreen-run-" + id }

// saveSecret writes the run's sensitive values when they differ from
// those last written: usually once, when the run is created, and once
// more when a step records a before-state with env values. The Secret is
// owned by the run's object, so deleting a run deletes its values.
func (s *Store) saveSecret(ctx context.Context, id string, values map[string]string) error {
	keys := make([]string, 0, len(values))
	enc := map[string]any{}
	for k, v := range values {
		keys = append(keys, k)
		enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	slices.Sort(keys)
	sig := strings.Join(keys, ",")
	s.mu.Lock()
	same, uid := s.written[id] == sig, s.uid[id]
	s.mu.Unlock()
	if same {
		return nil
	}
	sec := &unstructured.Unstructured{Object: map[string]any{"type": "Opaque", "data": enc}}
	sec.SetAPIVersion("v1")
	sec.SetKind("Secret")
	sec.SetName(secretName(id))
	sec.SetNamespace(s.namespace)
	cluster, err := s.clusterID()
	if err != nil {
		return err
	}
	sec.SetLabels(map[string]string{LabelCluster: cluster, "bluegreen.dev/run": id})
	if uid != "" {
		sec.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: GVR.GroupVersion().String(), Kind: "BlueGreenRun",
			Name: objectName(id), UID: types.UID(uid)}})
	}
	body, err := sec.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode the values of run %s: %w", id, err)
	}
	force := true
	if _, err := s.secrets.Patch(ctx, secretName(id), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: fieldManager, Force: &force}); err != nil {
		return fmt.Errorf("save the sensitive values of run %s in Secret %s/%s: %w", id, s.namespace, secretName(id), err)
	}
	s.mu.Lock()
	s.written[id] = sig
	s.mu.Unlock()
	return nil
}

// Get implements journal.Store.
func (s *Store) Get(ctx context.Context, id string) (*journal.Run, error) {
	u, err := s.dyn.Get(ctx, objectName(id), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("run %s in namespace %s: %w", id, s.namespace, journal.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read run %s in namespace %s: %w", id, s.namespace, err)
	}
	// A record of another cluster (a namespace restored from a backup of
	// it) is not this cluster's, as List does not show it.
	cluster, err := s.clusterID()
	if err != nil {
		return nil, err
	}
	if got := u.GetLabels()[LabelCluster]; got != cluster {
		return nil, fmt.Errorf("run %s in namespace %s was journaled in cluster %s, not this one (%s): %w", id, s.namespace, got, cluster, journal.ErrNotFound)
	}
	r, err := s.decode(ctx, u)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// List implements journal.Store: the runs of this namespace and cluster
// that f matches, newest first. Records that do not decode are reported in
// a *journal.BadRecordsError along with the others.
func (s *Store) List(ctx context.Context, f journal.Filter) ([]*journal.Run, error) {
	// Selected by app and scope on the server, by cluster here: the list
	// goes out while the cluster's identity may still be on its way.
	sel := labels.Set{}
	if f.App != "" {
		sel[LabelApp] = labelValue(f.App)
	}
	if f.Scope != "" {
		sel[LabelScope] = string(f.Scope)
	}
	list, err := s.dyn.List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	cluster, ierr := s.clusterID()
	if ierr != nil {
		return nil, ierr
	}
	if apierrors.IsNotFound(err) {
		return nil, nil // no CRD: no runs
	}
	if err != nil {
		return nil, fmt.Errorf("list runs in namespace %s: %w", s.namespace, err)
	}
	list.Items = slices.DeleteFunc(list.Items, func(u unstructured.Unstructured) bool { return u.GetLabels()[LabelCluster] != cluster })
	// Newest first (a run's name is its ID, which sorts by time), and
	// decoded only as far as the limit asks: the newest run is usually
	// all a command reads.
	items := list.Items
	slices.SortFunc(items, func(a, b unstructured.Unstructured) int { return strings.Compare(b.GetName(), a.GetName()) })
	var runs []*journal.Run
	bad := &journal.BadRecordsError{Path: "namespace " + s.namespace}
	for i := range items {
		if f.Limit > 0 && len(runs) == f.Limit {
			break
		}
		r, err := s.decode(ctx, &items[i])
		if err != nil {
			bad.Records = append(bad.Records, journal.BadRecord{ID: items[i].GetName(), Err: err})
			continue
		}
		if (f.Namespace == "" || f.Namespace == r.Namespace) && (f.App == "" || f.App == r.App) && (f.Scope == "" || f.Scope == r.Scope) {
			runs = append(runs, r)
		}
	}
	slices.SortStableFunc(runs, func(a, b *journal.Run) int { return strings.Compare(b.ID, a.ID) })
	if len(bad.Records) > 0 {
		return runs, bad
	}
	return runs, nil
}

// decode reads the record from an object's status and remembers the
// object's resourceVersion for the next write.
func (s *Store) decode(ctx context.Context, u *unstructured.Unstructured) (*journal.Run, error) {
	// No copy: the object is this store's own, just read.
	raw, ok, err := unstructured.NestedFieldNoCopy(u.Object, "status", "record")
	rec, isMap := raw.(map[string]any)
	if err != nil || !ok || !isMap {
		return nil, fmt.Errorf("run %s in namespace %s has no record yet (it was created, then its first write failed)", u.GetName(), s.namespace)
	}
	s.mu.Lock()
	s.uid[u.GetName()] = string(u.GetUID())
	s.mu.Unlock()
	if hasRefs(rec) && !s.sealed {
		if err := s.unsealInto(ctx, u.GetName(), rec); err != nil {
			return nil, err
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode the record of %s: %w", u.GetName(), err)
	}
	var r journal.Run
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode the record of %s in namespace %s: %w", u.GetName(), s.namespace, err)
	}
	s.remember(r.ID, u.GetResourceVersion())
	return &r, nil
}

// unsealInto puts a run's sensitive values back into its record, from
// its Secret.
func (s *Store) unsealInto(ctx context.Context, id string, rec map[string]any) error {
	sec, err := s.secrets.Get(ctx, secretName(id), metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read the sensitive values of run %s (Secret %s/%s): %w", id, s.namespace, secretName(id), err)
	}
	enc, _, _ := unstructured.NestedStringMap(sec.Object, "data")
	data := map[string][]byte{}
	keys := make([]string, 0, len(enc))
	for k, v := range enc {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return fmt.Errorf("decode key %s of Secret %s/%s: %w", k, s.namespace, secretName(id), err)
		}
		data[k] = b
		keys = append(keys, k)
	}
	if _, err := unseal(rec, data); err != nil {
		return fmt.Errorf("run %s in namespace %s: %w", id, s.namespace, err)
	}
	slices.Sort(keys)
	s.mu.Lock()
	s.written[id] = strings.Join(keys, ",")
	s.mu.Unlock()
	return nil
}

// objectName is the run's object name: its ID, which is already a valid
// name (digits, dots, dashes, lower-case hex).
func objectName(id string) string { return id }

// Selector is the labels of the runs of app in scope, journaled for the
// cluster of identity cluster: what List selects by.
func Selector(app string, scope journal.Scope, cluster string) map[string]string {
	return map[string]string{LabelApp: labelValue(app), LabelScope: string(scope), LabelCluster: cluster}
}

// labelValue fits a name into a label value (63 characters at most).
func labelValue(s string) string {
	if len(s) > 63 {
		return s[:63]
	}
	return s
}

// currentStep is the step in progress, or the last that ran.
func currentStep(r *journal.Run) string {
	last := ""
	for i := range r.Steps {
		switch r.Steps[i].State {
		case journal.Started, journal.Undoing:
			return r.Steps[i].Name
		case journal.Pending:
		default:
			last = r.Steps[i].Name
		}
	}
	return last
}

// Prune deletes the oldest finished runs of app in this namespace and
// cluster beyond the newest keep; a run that has not finished is never
// deleted. Each run's Secret goes with it (it is owned by the run). It
// returns how many it deleted.
func (s *Store) Prune(ctx context.Context, app string, keep int) (int, error) {
	runs, err := s.List(ctx, journal.Filter{App: app})
	var bad *journal.BadRecordsError
	if err != nil && !errors.As(err, &bad) {
		return 0, err
	}
	deleted, finished := 0, 0
	for _, r := range runs { // newest first
		if !r.State.Final() {
			continue
		}
		if finished++; finished <= keep {
			continue
		}
		policy := metav1.DeletePropagationBackground
		err := s.dyn.Delete(ctx, objectName(r.ID), metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			return deleted, fmt.Errorf("delete run %s in namespace %s: %w", r.ID, s.namespace, err)
		}
		deleted++
	}
	return deleted, nil
}

// Open is the store of namespace ns in the cluster c and dyn reach: it
// reads the cluster's identity (one API call).
func Open(ctx context.Context, c kubernetes.Interface, dyn dynamic.Interface, ns string) (*Store, error) {
	id, err := kube.ClusterID(ctx, c)
	if err != nil {
		return nil, err
	}
	return New(dyn, ns, id), nil
}
