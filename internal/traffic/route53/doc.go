// Package route53 is the cluster-scope router that moves traffic between two
// clusters through Route 53 weighted record sets, calling the Route 53 API
// directly.
//
// Each color (normally "blue" for cluster A and "green" for cluster B) owns
// one weighted record set of the same name and type, told apart by its set
// identifier. The router writes the percent of the split as the record's
// weight, so a 90/10 split is written as weights 90 and 10. Both record sets
// are written in one change batch, which Route 53 applies atomically, and a
// shift returns only once Route 53 reports the change INSYNC.
//
// The package also holds Route 53's weighted semantics that the external-dns
// router shares: weights to percent (traffic.SplitFromWeights) and split
// validation (traffic.ValidateSplit).
package route53
