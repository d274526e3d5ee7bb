// Package runstore keeps run records in the cluster a run acts on, as
// BlueGreenRun objects, so that any machine with access to the cluster can
// see, continue, promote, roll back and abort a run. It implements
// journal.Store with the same guarantees as the local journal: Save
// returns once the API server has committed the record (etcd has it on a
// quorum's disk), and every write carries the resourceVersion this process
// last read or wrote, so a run that someone else's process has changed in
// between fails to write instead of overwriting it.
package runstore
