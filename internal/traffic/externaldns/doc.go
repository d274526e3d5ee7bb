// Package externaldns is the cluster-scope router that moves traffic between
// two clusters through external-dns: each color's Service or Ingress, in that
// color's cluster, carries the external-dns annotations for one Route 53
// weighted record set (hostname, set identifier, aws-weight), and the
// external-dns running in each cluster writes its record set from them.
//
// The router writes the percent of the split as the weight, as the route53
// router does, and reads weights back with the same rules (traffic.
// SplitFromWeights: all weights 0 read as equal shares, as Route 53 answers).
//
// A shift patches two objects in two clusters, so unlike the route53 router
// it cannot change the split atomically: between the two patches, and until
// both clusters' external-dns have synced, readers see one color's new
// weight next to the other's old one. Shift patches the color losing traffic
// first. With two colors every mix of old and new weights lies between the
// old and the new split, whichever order the writes land in, so the order
// only decides which side the intermediate state leans to: writing the loser
// first never gives the gaining color more than the target share mid-shift,
// and a rollback takes the failing color down to its new weight with the
// first write instead of the second. A straight flip (100/0 to 0/100) passes
// through weights 0/0, which Route 53 serves as equal shares: the same 50/50
// that the other order (100/100) would give.
package externaldns
