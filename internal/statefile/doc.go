// Package statefile owns the rules for bluegreen's local state files, the
// journal and the audit log: they hold release specs, before-states and
// who-did-what, so they must be the user's own and private.
//
// A state file is never reached through a symbolic link (a link planted in a
// shared or writable directory would make bluegreen write, or read its
// journal from, a file someone else chose); it must be a regular file owned
// by the current user with no group or other permission bits (0600). New
// files are created 0600. Each refusal says the fix: chmod 600, chown, or a
// path to the file itself.
package statefile
