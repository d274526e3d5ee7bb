// Package dashboard serves a web view of the apps under bluegreen: each
// app's colors, images, readiness and traffic, the step timeline of its
// newest run and its last runs, with promote and rollback buttons. It owns
// the HTTP side — pages, the guard against cross-site requests, the access
// review that decides which buttons a user may press, the actions in
// flight — and reads and acts through a Source, which the CLI implements
// with the same runs, Lease and engine as its commands.
package dashboard
