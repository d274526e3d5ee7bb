package testbed

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// stagesYAML holds the kwok Stages of every cluster, unready pods included.
//
//go:embed stages.yaml
var stagesYAML []byte

// Names of files in a cluster's work dir.
const (
	configFile = "testbed.yaml" // kwokctl configuration and stages
	logFile    = "kwokctl.log"  // output of kwokctl runs
)

// bindAddress is where every component listens: loopback only.
const bindAddress = "127.0.0.1"

// kwokctlConfig is the subset of kwokctl's KwokctlConfiguration
// (config.kwok.x-k8s.io/v1alpha1) that the test bed sets.
type kwokctlConfig struct {
	APIVersion        string           `json:"apiVersion"`
	Kind              string           `json:"kind"`
	Options           kwokctlOptions   `json:"options"`
	ComponentsPatches []componentPatch `json:"componentsPatches,omitempty"`
}

// kwokctlOptions are the options of a KwokctlConfiguration.
type kwokctlOptions struct {
	Runtime                     string `json:"runtime"`
	BindAddress                 string `json:"bindAddress"`
	QuietPull                   bool   `json:"quietPull"`
	DisableQPSLimits            bool   `json:"disableQPSLimits"`
	EtcdPort                    uint32 `json:"etcdPort"`
	EtcdPeerPort                uint32 `json:"etcdPeerPort"`
	KubeApiserverPort           uint32 `json:"kubeApiserverPort"`
	KubeControllerManagerPort   uint32 `json:"kubeControllerManagerPort"`
	KubeSchedulerPort           uint32 `json:"kubeSchedulerPort"`
	KwokControllerPort          uint32 `json:"kwokControllerPort"`
	EtcdBinary                  string `json:"etcdBinary"`
	KubeApiserverBinary         string `json:"kubeApiserverBinary"`
	KubeControllerManagerBinary string `json:"kubeControllerManagerBinary"`
	KubeSchedulerBinary         string `json:"kubeSchedulerBinary"`
	KwokControllerBinary        string `json:"kwokControllerBinary"`
	KubectlBinary               string `json:"kubectlBinary,omitempty"`
}

// componentPatch adds arguments to one component's command line.
type componentPatch struct {
	Name      string     `json:"name"`
	ExtraArgs []extraArg `json:"extraArgs"`
}

// extraArg is one --key=value argument.
type extraArg struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// writeConfig writes the kwokctl configuration of c, listening on ports, to
// c's work dir: one JSON document (which is YAML) followed by the stages.
func (c *Cluster) writeConfig(ports clusterPorts) error {
	bin := func(name string) string { return filepath.Join(c.binDir, name) }
	conf := kwokctlConfig{
		APIVersion: "config.kwok.x-k8s.io/v1alpha1",
		Kind:       "KwokctlConfiguration",
		Options: kwokctlOptions{
			Runtime:                     "binary",
			BindAddress:                 bindAddress,
			QuietPull:                   true,
			DisableQPSLimits:            true,
			EtcdPort:                    ports.etcd,
			EtcdPeerPort:                ports.etcdPeer,
			KubeApiserverPort:           ports.apiserver,
			KubeControllerManagerPort:   ports.controllerManager,
			KubeSchedulerPort:           ports.scheduler,
			KwokControllerPort:          ports.kwok,
			EtcdBinary:                  bin("etcd"),
			KubeApiserverBinary:         bin("kube-apiserver"),
			KubeControllerManagerBinary: bin("kube-controller-manager"),
			KubeSchedulerBinary:         bin("kube-scheduler"),
			KwokControllerBinary:        bin("kwok"),
			KubectlBinary:               kubectlStandIn(),
		},
		ComponentsPatches: []componentPatch{{
			Name:      "kube-apiserver",
			ExtraArgs: []extraArg{{Key: "service-cluster-ip-range", Value: c.ServiceCIDR}},
		}},
	}
	doc, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return fmt.Errorf("encode kwokctl config: %w", err)
	}
	data := append(doc, "\n---\n"...)
	data = append(data, stagesYAML...)
	if err := os.WriteFile(filepath.Join(c.WorkDir, configFile), data, 0o644); err != nil {
		return fmt.Errorf("write kwokctl config: %w", err)
	}
	return nil
}

// kubectlStandIn returns what kwokctl should run as kubectl, or "" to let it
// use the kubectl on PATH. kwokctl runs kubectl only to poll /version after
// starting the components; without kubectl it would download one. Start
// waits for the API server itself, so a program that always succeeds stands
// in when no kubectl is installed.
func kubectlStandIn() string {
	if _, err := exec.LookPath("kubectl"); err == nil {
		return ""
	}
	if path, err := exec.LookPath("true"); err == nil {
		return path
	}
	return ""
}

// kwokctl runs kwokctl with args for c, appending its output to the log file
// in c's work dir. On failure the error includes the output's last lines.
func (c *Cluster) kwokctl(ctx context.Context, args ...string) error {
	full := append([]string{"--name", c.Name, "--config", filepath.Join(c.WorkDir, configFile)}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, "kwokctl"), full...)
	cmd.Dir = c.WorkDir
	cmd.Env = append(kwokFreeEnv(), "KWOK_WORKDIR="+c.WorkDir)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if f, ferr := os.OpenFile(filepath.Join(c.WorkDir, logFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); ferr == nil {
		fmt.Fprintf(f, "$ kwokctl %s\n%s", strings.Join(full, " "), out.Bytes())
		_ = f.Close()
	}
	if err != nil {
		return fmt.Errorf("kwokctl %s: %w\n%s", strings.Join(args, " "), err, lastLines(out.String(), 15))
	}
	return nil
}

// kwokFreeEnv returns the environment without KWOK_* variables, so that a
// developer's kwokctl settings do not leak into test clusters.
func kwokFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KWOK_") {
			env = append(env, kv)
		}
	}
	return env
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// componentLogTail returns the last lines of each component's log, for error
// messages when a cluster does not come up.
func (c *Cluster) componentLogTail() string {
	logs, _ := filepath.Glob(filepath.Join(c.clusterDir(), "logs", "*.log"))
	var b strings.Builder
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", filepath.Base(path), lastLines(string(data), 5))
	}
	return b.String()
}
