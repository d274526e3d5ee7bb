// Package journal owns the durable record of every run: which steps a run
// planned, which of them started, finished, failed or were undone, and the
// before-state each step captured so that it can be undone later.
//
// A run is written to the store before and after every action, so a process
// killed at any point leaves a record that `bluegreen resume` continues and
// `bluegreen rollback` walks backwards. The default store is an embedded bbolt
// database under the user's state directory.
package journal
