package plan

import (
	"fmt"
	"strings"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// ServiceDeploy compiles a release of rel.Image onto the idle color of an app
// into the runbook's steps. It validates everything first and returns an
// error wrapping ErrInvalid on bad input.
func ServiceDeploy(obs ServiceObserved, rel ServiceRelease) ([]journal.Step, error) {
	if err := ValidateImage(rel.Image); err != nil {
		return nil, err
	}
	scaleDown, keepWarm := rel.ScalesDown()
	if keepWarm < 0 {
		return nil, invalid("keepWarm %d: must be 0 or more (set --keep-warm to the replicas the old color keeps)", keepWarm)
	}
	switch rel.Approval {
	case "prompt", "auto", "pause":
	default:
		return nil, invalid("approval %q: want prompt, auto (--yes) or pause (--pause)", rel.Approval)
	}
	for i, c := range rel.Checks {
		if err := c.Validate(); err != nil {
			return nil, invalid("checks[%d]: %v", i, err)
		}
	}
	active, err := ActiveColor(obs, rel.App, rel.ColorLabel)
	if err != nil {
		return nil, err
	}
	idle := active.Other()
	act, idl := obs.Deployments[active], obs.Deployments[idle]
	container, err := pickContainer(idl, rel.Container)
	if err != nil {
		return nil, err
	}
	ns := obs.Namespace
	idleT := Target{Namespace: ns, Deployment: idl.Name, Color: idle}
	activeT := Target{Namespace: ns, Deployment: act.Name, Color: active}
	idleObj, activeObj := "deployment/"+idl.Name, "deployment/"+act.Name

	// What a rollback after the switch leaves of the new color: the same
	// as a release leaves of the old one.
	var rollbackKeep *int32
	if scaleDown {
		rollbackKeep = &keepWarm
	}
	var steps []journal.Step
	if idl.HPA != nil {
		// An idle color gets no traffic, so its autoscaler would shrink it
		// to minReplicas while the release waits for approval.
		steps = append(steps, holdHPA("hold-idle-hpa", idleT, idl.HPA, act.Name, act.Replicas))
	}
	imgMut := []journal.Mutation{mut(idleObj, "container %s image %s → %s (kept by a rollback after the switch, for re-testing)", container.Name, container.Image, rel.Image)}
	if len(rel.Env) > 0 {
		// Keys only: any value may be a secret (a DSN with a password under
		// DB_URL), and plans are printed, recorded as Events and audited.
		imgMut = append(imgMut, mut(idleObj, "container %s env %s (values hidden)", container.Name, strings.Join(sortedKeys(rel.Env), ", ")))
	}
	steps = append(steps,
		step("set-image", KindSetImage,
			fmt.Sprintf("Set %s on the idle color %s", rel.Image, idle),
			SetImageParams{Target: idleT, Container: container.Name, Image: rel.Image, Env: rel.Env, KeepAfterSwitch: true}, imgMut...),
		step("scale-idle", KindScale,
			fmt.Sprintf("Scale %s to the active color's replica count (%d now)", idl.Name, act.Replicas),
			ScaleParams{Target: idleT, FromActive: act.Name, KeepAfterSwitch: true, KeepWarm: rollbackKeep},
			mut(idleObj, "spec.replicas %d → %d (the active color's count when the step runs)", idl.Replicas, act.Replicas)),
		step("wait-rollout", KindWaitRollout,
			fmt.Sprintf("Wait until %s has rolled out and every pod is Ready (timeout %s)", idl.Name, rel.RolloutTimeout),
			WaitRolloutParams{Target: idleT, Timeout: rel.RolloutTimeout}),
	)
	if len(rel.Checks) > 0 {
		steps = append(steps, step("check-preview", KindChecks,
			fmt.Sprintf("Run %d check(s) against the preview (%s)", len(rel.Checks), orNone(rel.PreviewURL)),
			ChecksParams{Target: idleT, Image: rel.Image, BaseURL: rel.PreviewURL, Phase: "preview"}))
	}
	steps = append(steps,
		step("approve", KindApprove, approvalDesc(rel.Approval), nil),
		step("rescale-idle", KindScale,
			fmt.Sprintf("Scale %s to the active color's replica count again (%d now), in case it shrank while waiting", idl.Name, act.Replicas),
			ScaleParams{Target: idleT, FromActive: act.Name, KeepAfterSwitch: true, KeepWarm: rollbackKeep, Again: true},
			mut(idleObj, "spec.replicas → %d (the active color's count when the step runs)", act.Replicas)),
		step("switch", KindSwitch,
			fmt.Sprintf("Once %s has as many ready pods as %s, switch production to %s: Service %s selects %s=%s, preview %s selects %s=%s",
				idl.Name, act.Name, idle, rel.ActiveService, rel.ColorLabel, idle, rel.PreviewService, rel.ColorLabel, active),
			SwitchParams{Namespace: ns, ActiveService: obs.Active.Name, PreviewService: obs.Preview.Name, ColorLabel: rel.ColorLabel, From: active, To: idle, App: rel.App,
				MinReadyFrom: act.Name, ReadyTimeout: rel.RolloutTimeout},
			mut("service/"+obs.Active.Name, "selector %s → %s", selectorString(obs.Active.Selector), selectorString(with(obs.Active.Selector, rel.ColorLabel, string(idle)))),
			mut("service/"+obs.Preview.Name, "selector %s → %s", selectorString(obs.Preview.Selector), selectorString(with(obs.Preview.Selector, rel.ColorLabel, string(active))))),
	)
	if act.HPA != nil {
		// Mirrored only now that the new color serves: before the switch its
		// autoscaler would have shrunk it for lack of load.
		newHPA, change := idl.Name, fmt.Sprintf("create, scaleTargetRef %s, min %d max %d", idl.Name, act.HPA.MinReplicas, act.HPA.MaxReplicas)
		if idl.HPA != nil {
			newHPA, change = idl.HPA.Name, fmt.Sprintf("spec as %s's: min %d max %d (spec kept in the journal; restored on rollback)", act.HPA.Name, act.HPA.MinReplicas, act.HPA.MaxReplicas)
		}
		steps = append(steps,
			step("mirror-hpa", KindMirrorHPA,
				fmt.Sprintf("Give %s an autoscaler like %s's (%d–%d replicas)", idl.Name, act.HPA.Name, act.HPA.MinReplicas, act.HPA.MaxReplicas),
				MirrorHPAParams{Target: idleT, FromHPA: act.HPA.Name, NewHPA: newHPA},
				mut("horizontalpodautoscaler/"+newHPA, "%s", change)),
			holdHPA("hold-old-hpa", activeT, act.HPA, act.Name, act.Replicas))
	}
	if rel.WatchWindow > 0 {
		steps = append(steps, step("watch", KindWatch,
			fmt.Sprintf("Watch %s for %s (every %s); roll back automatically if a check fails", idle, rel.WatchWindow, rel.WatchInterval),
			WatchParams{ChecksParams: ChecksParams{Target: idleT, Image: rel.Image, BaseURL: rel.ActiveURL, Phase: "watch"}, Window: rel.WatchWindow, Interval: rel.WatchInterval}))
	}
	if !scaleDown {
		// The old color stays at full size (its autoscaler held above), so a
		// rollback only moves traffic back.
		return steps, nil
	}
	downMuts := []journal.Mutation{mut(activeObj, "spec.replicas %d → %d", act.Replicas, keepWarm)}
	if act.HPA != nil {
		downMuts = append([]journal.Mutation{mut("horizontalpodautoscaler/"+act.HPA.Name, "delete (spec kept in the journal; recreated on rollback)")}, downMuts...)
	}
	steps = append(steps, step("scale-down-old", KindScaleDown,
		fmt.Sprintf("%s after the switch, scale the old color %s to %d", rel.ScaleDownDelay, act.Name, keepWarm),
		ScaleDownParams{Target: activeT, KeepWarm: keepWarm, Delay: rel.ScaleDownDelay, SwitchStep: "switch"}, downMuts...))
	return steps, nil
}

// holdHPA keeps the autoscaler h of a color that serves no traffic at no
// fewer replicas than floorFrom has when the step runs.
func holdHPA(name string, t Target, h *HPAInfo, floorFrom string, now int32) journal.Step {
	return step(name, KindHoldHPA,
		fmt.Sprintf("Keep autoscaler %s from shrinking %s below %s's replica count while %s serves no traffic", h.Name, t.Deployment, floorFrom, t.Color),
		HoldHPAParams{Target: t, HPA: h.Name, FloorFrom: floorFrom},
		mut("horizontalpodautoscaler/"+h.Name, "minReplicas %d → %d (%s's count when the step runs; restored on rollback)", h.MinReplicas, max(h.MinReplicas, now), floorFrom))
}

func pickContainer(d *DeploymentInfo, name string) (ContainerInfo, error) {
	if len(d.Containers) == 0 {
		return ContainerInfo{}, invalid("Deployment %s has no containers", d.Name)
	}
	if name == "" {
		return d.Containers[0], nil
	}
	names := make([]string, 0, len(d.Containers))
	for _, c := range d.Containers {
		if c.Name == name {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return ContainerInfo{}, invalid("Deployment %s has no container %q (it has %v; set --container)", d.Name, name, names)
}

func approvalDesc(mode string) string {
	switch mode {
	case "auto":
		return "Approval: granted up front (--yes)"
	case "pause":
		return "Approval: pause here; `bluegreen promote` continues"
	}
	return "Approval: ask on the terminal"
}

func orNone(s string) string {
	if s == "" {
		return "no preview URL"
	}
	return s
}

func with(sel map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(sel)+1)
	for kk, vv := range sel {
		out[kk] = vv
	}
	out[k] = v
	return out
}
