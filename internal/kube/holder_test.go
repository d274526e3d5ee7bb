package kube

import (
	"fmt"
	"os"
	"testing"
)

// A holder is judged dead by its PID only when it is a process of this very
// boot and PID namespace: a container that shares the hostname (and the
// kernel) but not the PIDs must never take a live lease this way.
func TestHolderDeadOnlyInSamePIDNamespace(t *testing.T) {
	me := Self("me")
	if me.Boot == "" || me.PIDNS == "" {
		t.Skip("no boot ID or PID namespace on this system: no holder is ever judged dead by PID")
	}
	const gone = 1 << 22 // above pid_max's default: no such process
	id := func(host, boot, pidns string) string {
		return fmt.Sprintf("u@%s pid=%d run=x boot=%s pidns=%s", host, gone, boot, pidns)
	}
	host, _ := os.Hostname()
	tests := []struct {
		name, identity string
		dead           bool
	}{
		{"same host, boot and namespace", id(host, me.Boot, me.PIDNS), true},
		{"another PID namespace (a container)", id(host, me.Boot, "4026599999"), false},
		{"another boot", id(host, "000000000000", me.PIDNS), false},
		{"another host", id(host+"-x", me.Boot, me.PIDNS), false},
		{"identity without boot or namespace (older bluegreen)", fmt.Sprintf("u@%s pid=%d run=x", host, gone), false},
		{"own live process", fmt.Sprintf("u@%s pid=%d run=x boot=%s pidns=%s", host, os.Getpid(), me.Boot, me.PIDNS), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseHolder(tt.identity).deadOnThisHost(); got != tt.dead {
				t.Fatalf("deadOnThisHost(%q) = %v, want %v", tt.identity, got, tt.dead)
			}
		})
	}
}
