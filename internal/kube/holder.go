package kube

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// Holder identifies who holds a lease:
// "user@host pid=123 run=ID boot=3f2a9c0d41b7 pidns=4026531836".
//
// Boot and PIDNS say which kernel boot and which PID namespace PID belongs
// to. Only a holder of this very boot and PID namespace can be judged dead
// by signalling its PID: two containers may share a hostname (and a boot)
// without sharing PIDs, and a PID seen from another namespace says nothing.
type Holder struct {
	User, Host string
	PID        int
	Run        string
	// Boot is the start of the kernel's boot ID; empty where unknown.
	Boot string
	// PIDNS is the inode of the PID namespace; empty where unknown.
	PIDNS string
}

// String is the lease's holderIdentity.
func (h Holder) String() string {
	s := fmt.Sprintf("%s@%s pid=%d run=%s", h.User, h.Host, h.PID, h.Run)
	if h.Boot != "" {
		s += " boot=" + h.Boot
	}
	if h.PIDNS != "" {
		s += " pidns=" + h.PIDNS
	}
	return s
}

// ParseHolder reads a holderIdentity written by Holder.String. Fields it
// does not find stay empty: an identity written by an older bluegreen has
// no boot or pidns, and is then never judged dead by its PID.
func ParseHolder(s string) Holder {
	var h Holder
	fields := strings.Fields(s)
	if len(fields) > 0 {
		h.User, h.Host, _ = strings.Cut(fields[0], "@")
	}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "run":
			h.Run = v
		case "boot":
			h.Boot = v
		case "pidns":
			h.PIDNS = v
		}
	}
	return h
}

// Self is the holder for the current process and run.
func Self(run string) Holder {
	host, _ := os.Hostname()
	name := os.Getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		} else {
			name = "uid" + strconv.Itoa(os.Getuid())
		}
	}
	boot, pidns := processPlace()
	return Holder{User: name, Host: host, PID: os.Getpid(), Run: run, Boot: boot, PIDNS: pidns}
}

// processPlace reads the boot ID and the PID namespace of this process
// (Linux); both are empty elsewhere.
func processPlace() (boot, pidns string) {
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		boot = strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")
		if len(boot) > 12 {
			boot = boot[:12]
		}
	}
	if link, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		// "pid:[4026531836]"
		if _, rest, ok := strings.Cut(link, "["); ok {
			pidns = strings.TrimSuffix(rest, "]")
		}
	}
	return boot, pidns
}

// deadOnThisHost reports whether h is a process of this machine's current
// boot and PID namespace that no longer exists: its lease can be taken over
// at once instead of waiting for expiry, which is what a `resume` right
// after a crash needs. Anything it cannot be sure of counts as alive.
func (h Holder) deadOnThisHost() bool {
	me := Self("")
	if h.PID <= 0 || h.Boot == "" || h.PIDNS == "" {
		return false
	}
	if h.Host != me.Host || h.Boot != me.Boot || h.PIDNS != me.PIDNS {
		return false
	}
	err := syscall.Kill(h.PID, 0)
	return errors.Is(err, syscall.ESRCH)
}
