// Package engine runs a plan's steps against the live system: for each step
// it checks the precondition, records the before-state in the journal, acts,
// verifies, and records the result; on failure it walks the undos of every
// step that started, newest first. Steps are data in the journal and actions
// are looked up by kind, so a run killed at any point is continued by a new
// process from the journal alone.
package engine
