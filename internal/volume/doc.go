// Package volume owns the stateful hand-off of the cluster scope: moving a
// StatefulSet's EBS volumes from cluster A to cluster B (Retain, snapshot,
// scale to 0, wait for the detach, release the claims, static PVs in B,
// start the StatefulSet there, verify the attachment) and back on undo.
//
// No step of this package ever deletes an EBS volume, and a claim is
// deleted only after its PV is verified Retain.
package volume
