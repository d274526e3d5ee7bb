package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuComponents are the processes a hand-off run keeps busy, in the order
// the report prints them. "bench" is this process: the tool's engine and
// actions, the EBS CSI driver simulators and the AWS wire fake all run in it.
var cpuComponents = []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok", "bench", "other"}

// clockTick is the kernel's USER_HZ, 100 on every Linux architecture Go
// supports: /proc reports CPU time in these ticks.
const clockTick = 10 * time.Millisecond

// cpuSnapshot is the CPU time (user + system) each live process has used,
// by pid, with the component it belongs to. It reads /proc and is empty
// where there is none.
type cpuSnapshot map[int]cpuProc

type cpuProc struct {
	component string
	used      time.Duration
}

func takeCPU() cpuSnapshot {
	out := cpuSnapshot{}
	self := os.Getpid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process is gone
		}
		s := string(data)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
		if err != nil {
			continue
		}
		// Fields after the command name: state is the first, utime the
		// 12th and stime the 13th (proc(5) numbers them 14 and 15).
		f := strings.Fields(s[closing+1:])
		if len(f) < 13 {
			continue
		}
		user, _ := strconv.ParseInt(f[11], 10, 64)
		sys, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = cpuProc{component: componentOf(pid, self, s[open+1:closing]), used: time.Duration(user+sys) * clockTick}
	}
	return out
}

// componentOf names the test-bed part a process is, from its command name
// (the kernel cuts it to 15 bytes).
func componentOf(pid, self int, comm string) string {
	switch {
	case pid == self:
		return "bench"
	case comm == "kube-apiserver" || comm == "etcd" || comm == "kube-scheduler":
		return comm
	case strings.HasPrefix(comm, "kube-controller"):
		return "kube-controller-manager"
	case strings.HasPrefix(comm, "kwok"):
		return "kwok"
	}
	return "other"
}

// cpuSince is the CPU time each component used from before to now. A
// process that started in between counts from zero; one that ended in
// between is not counted (its last reading is gone with it).
func cpuSince(before cpuSnapshot) map[string]time.Duration {
	out := map[string]time.Duration{}
	for pid, p := range takeCPU() {
		prev := before[pid]
		if prev.component != p.component {
			prev.used = 0 // a new process under a reused pid
		}
		out[p.component] += p.used - prev.used
	}
	return out
}
