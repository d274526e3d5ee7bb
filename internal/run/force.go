package run

import (
	"context"
	"fmt"
	"time"

	"github.com/bluegreen/bluegreen/internal/audit"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/redact"
	"github.com/bluegreen/bluegreen/internal/service"
)

// ForceRollback sends an app's production back to the other color from
// what the cluster shows, with no run record (see service.ForceBack). It
// holds the app's Lease meanwhile, so it refuses while a live run acts on
// the app, and leaves an audit record and an Event on the active Service.
// kctx names the kubeconfig context in the audit record.
func (x *Runner) ForceRollback(ctx context.Context, d service.Deps, rel plan.ServiceRelease, kctx string, timeout time.Duration) (service.Forced, error) {
	k := ServiceKey(rel.Namespace, rel.App)
	id := journal.NewID(x.Clock.Now())
	ctx, _, release, err := x.hold(ctx, k, id)
	if err != nil {
		return service.Forced{}, err
	}
	defer release()
	f, err := service.ForceBack(ctx, d, rel, timeout)
	rec := audit.Record{Run: id, Scope: string(journal.ScopeService), App: rel.App, Namespace: rel.Namespace, Context: kctx,
		Action: "force-rollback", Object: "service/" + rel.ActiveService, Result: "ok",
		Note: fmt.Sprintf("from %s to %s without a run record", f.From, f.To)}
	if f.ScaledTo > 0 {
		rec.Note += fmt.Sprintf("; %s scaled from %d to %d replicas first", plan.DeploymentName(rel.App, f.To), f.ScaledFrom, f.ScaledTo)
	}
	typ, msg := "Normal", "bluegreen rollback --force: "+rec.Note
	if err != nil {
		rec.Result, rec.Error = "failed", redact.Text(err.Error())
		typ, msg = "Warning", "bluegreen rollback --force refused: "+rec.Error
	}
	x.forceAudit(ctx, rec)
	if eerr := kube.Event(context.WithoutCancel(ctx), d.Client, rel.Namespace, rec.Object, "BlueGreenForcedRollback", msg, typ); eerr != nil {
		x.Log.Debug("record event", "error", eerr)
	}
	return f, err
}

func (x *Runner) forceAudit(ctx context.Context, rec audit.Record) {
	if x.Sinks.AuditPath == "" {
		return
	}
	a, err := audit.Open(x.Sinks.AuditPath, x.Sinks.Secrets)
	if err != nil {
		x.Log.Warn("audit log unavailable", "error", err)
		return
	}
	defer func() { _ = a.Close() }()
	if err := a.Append(context.WithoutCancel(ctx), rec); err != nil {
		x.Log.Warn("append audit record", "error", err)
	}
}
