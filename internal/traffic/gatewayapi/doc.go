// Package gatewayapi is the namespace-scope router that moves a product's
// hosts between its two namespaces with Gateway API HTTPRoutes.
//
// A product is the same Services in two namespaces, one per color. The
// router owns two HTTPRoutes in the section's route namespace,
// bluegreen-<product>-prod for the production host and
// bluegreen-<product>-preprod for the preprod host, attached to the
// section's Gateways. Each rule of both routes sends its path prefix to the
// rule's Service in both namespaces, weighted: the prod route carries the
// split (90/10 during a progressive shift), the preprod route sends
// everything to the idle color, the one with the smaller share (on 50/50 it
// stays where it was; see PreprodColor). Where the route namespace is not a
// color's namespace, a ReferenceGrant bluegreen-<product> in that namespace
// lets the routes reach the rules' Services, and nothing else.
//
// Writes are server-side applies by field manager "bluegreen", forced: a
// shift states the whole of what bluegreen owns on a route, so repeating it
// after a crash writes nothing new, and fields that other managers own
// (annotations, labels of other tools) are left alone. There is no
// read-modify-write, so no resourceVersion conflict to retry.
//
// A shift is all or nothing. The prod route is written first, then the
// preprod one; if the second write fails, or a Gateway controller then
// reports a route as not Accepted or its references as not resolved, both
// routes are put back as they were read before the shift (a route that did
// not exist is deleted). A shift waits up to the section's statusTimeout
// for the controllers to report on the written generation; when none does
// (no controller watches these Gateways, or it is slow), the shift stands
// and a warning says the switch is written but not confirmed.
package gatewayapi
