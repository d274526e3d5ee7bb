package controller

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/bluegreen/bluegreen/api/v1alpha1"
	"github.com/bluegreen/bluegreen/internal/engine"
)

// metrics are the controller's own series on /metrics, beside
// controller-runtime's (reconciles, work queue) and client-go's
// (rest_client_requests_total: every API call the process makes).
type metrics struct {
	releases  *prometheus.GaugeVec
	steps     *prometheus.HistogramVec
	runs      *prometheus.CounterVec
	rollbacks prometheus.Counter
	checks    *prometheus.CounterVec

	mu     sync.Mutex
	phases map[types.NamespacedName]v1alpha1.Phase
}

var (
	metricsOnce sync.Once
	theMetrics  *metrics
)

// newMetrics registers the series once per process.
func newMetrics() *metrics {
	metricsOnce.Do(func() {
		m := &metrics{
			releases: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bluegreen_releases",
				Help: "BlueGreenReleases by phase, as last reconciled."}, []string{"phase"}),
			steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bluegreen_step_duration_seconds",
				Help:    "How long steps took, by kind (switch: the production switch itself).",
				Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}}, []string{"kind"}),
			runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bluegreen_runs_total",
				Help: "Runs this controller carried to an end, by operation and result (succeeded, rolled-back, aborted, failed, paused, waiting)."},
				[]string{"operation", "result"}),
			rollbacks: prometheus.NewCounter(prometheus.CounterOpts{Name: "bluegreen_rollbacks_total",
				Help: "Runs rolled back: a step failed, or a rollback was asked for."}),
			checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bluegreen_check_failures_total",
				Help: "Check steps that failed (before the switch, or in the watch window), by step kind."}, []string{"kind"}),
			phases: map[types.NamespacedName]v1alpha1.Phase{},
		}
		crmetrics.Registry.MustRegister(m.releases, m.steps, m.runs, m.rollbacks, m.checks)
		theMetrics = m
	})
	return theMetrics
}

// observe counts an engine transition.
func (m *metrics) observe(ev engine.Event) {
	switch ev.Kind {
	case engine.StepDone:
		if ev.Step != nil {
			m.steps.WithLabelValues(ev.Step.Kind).Observe(ev.Elapsed.Seconds())
		}
	case engine.StepFailed:
		if ev.Step != nil && (ev.Step.Kind == "checks" || ev.Step.Kind == "watch") {
			m.checks.WithLabelValues(ev.Step.Kind).Inc()
		}
	case engine.RunRolledBack:
		m.rollbacks.Inc()
		m.ended(ev, "rolled-back")
	case engine.RunSucceeded:
		m.ended(ev, "succeeded")
	case engine.RunAborted:
		m.ended(ev, "aborted")
	case engine.RunFailed:
		m.ended(ev, "failed")
	case engine.RunPaused:
		m.ended(ev, "paused")
	case engine.RunWaiting:
		m.ended(ev, "waiting")
	}
}

func (m *metrics) ended(ev engine.Event, result string) {
	op := ""
	if ev.Run != nil {
		op = ev.Run.Operation
	}
	m.runs.WithLabelValues(op, result).Inc()
}

// phase records a release's phase and recounts the gauge; gone releases
// are dropped.
func (m *metrics) phase(name types.NamespacedName, p v1alpha1.Phase, gone bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gone {
		delete(m.phases, name)
	} else {
		m.phases[name] = p
	}
	counts := map[v1alpha1.Phase]float64{v1alpha1.PhaseIdle: 0, v1alpha1.PhaseProgressing: 0, v1alpha1.PhasePaused: 0,
		v1alpha1.PhaseRolledBack: 0, v1alpha1.PhaseFailed: 0}
	for _, ph := range m.phases {
		counts[ph]++
	}
	for ph, n := range counts {
		m.releases.WithLabelValues(string(ph)).Set(n)
	}
}
