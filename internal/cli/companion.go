package cli

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// The release ships two programs. bluegreen, the one people type, is built
// with the tag lean: without the cluster scope (migrate, with the EC2,
// Route 53, EKS, IAM and ELBv2 clients) and the controller
// (controller-runtime, Prometheus), whose package initialization alone
// added 7.5 ms to the start of every command. bluegreen-full, the
// companion, is the complete build; the lean bluegreen runs it for migrate
// and controller. A build without the tag (go install, the container
// image) is complete on its own and needs no companion.

// CompanionName is the program that a lean bluegreen runs for the commands
// it lacks.
const CompanionName = "bluegreen-full"

// callerEnv carries the lean bluegreen's version to the companion, which
// warns when its own differs.
const callerEnv = "BLUEGREEN_CALLER_VERSION"

// The one-line help of the commands the lean build hands over, shared by
// both builds so that `bluegreen --help` reads the same in each.
const (
	migrateShort    = "Move workloads from cluster A to cluster B: warm standby, EBS volume hand-off, weighted DNS"
	controllerShort = "Carry out BlueGreenReleases: change an image in the object, the controller releases it"
)

// findCompanion returns the companion's path: beside self (the running
// program, symlinks resolved, as krew links it), else the first on PATH
// as lookPath finds it.
func findCompanion(self string, lookPath func(string) (string, error)) (string, error) {
	where := "on PATH"
	if self != "" {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		dir := filepath.Dir(self)
		path := filepath.Join(dir, CompanionName)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return path, nil
		}
		where = "in " + dir + " or on PATH"
	}
	if path, err := lookPath(CompanionName); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("%s not found %s: this bluegreen is the lean build, which runs %s for migrate and controller. "+
		"Install both programs from the same release archive, side by side (or `go install github.com/bluegreen/bluegreen/cmd/bluegreen`, "+
		"which builds one complete bluegreen)", CompanionName, where, CompanionName)
}

// companionPath finds the companion beside this program, else on PATH.
func companionPath() (string, error) {
	self, err := os.Executable()
	if err != nil {
		self = ""
	}
	return findCompanion(self, exec.LookPath)
}

// ident names a build for the companion's version check.
func (b BuildInfo) ident() string {
	if b.Commit == "" {
		return b.Version
	}
	return b.Version + " (" + b.Commit + ")"
}

// warnCaller warns on w when a lean bluegreen of another build ran this
// one: its migrate or controller may not be the one its other commands
// expect. The variable goes no further (checks and hooks the command runs).
func warnCaller(w io.Writer) {
	caller := os.Getenv(callerEnv)
	if caller == "" {
		return
	}
	_ = os.Unsetenv(callerEnv)
	if own := buildInfo().ident(); caller != own {
		fmt.Fprintf(w, "Warning: %s is %s but the bluegreen that ran it is %s; install both from the same release.\n", CompanionName, own, caller)
	}
}
