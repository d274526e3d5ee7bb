// Package bench measures how fast bluegreen moves production traffic on the
// test bed (package testbed: a real control plane with kwok's fake nodes).
//
// BenchmarkSwitch times, over BENCH_RUNS runs each (default 30), with
// promote, rollback, kubectl patch and selector-patch interleaved round by
// round so that they see the same load:
//
//   - promote: from the `bluegreen promote` call until the active Service's
//     EndpointSlices list at least one ready endpoint and only pods of the
//     new color;
//   - rollback: the same, from the `bluegreen rollback` call back to the
//     old color;
//   - auto-rollback: a release whose production checks fail in the watch
//     window, from the failed check to the switch back starting (the
//     run's journal) and done (the CLI's output);
//   - kubectl patch: the same selector patch as a user would type it, with
//     upstream kubectl at the test bed's release, as a process;
//   - selector-patch: a bare merge patch of the active Service's selector,
//     without the CLI: the floor the tool is compared to;
//   - costs: the pieces a CLI call is made of (process start, connecting,
//     a journal write, an audit append, one API round trip).
//
// BenchmarkGatewaySwitch is the namespace scope's zero-downtime proof: two
// real nginx gateways under BENCH_GATEWAY_RATE requests a second (vegeta,
// default 1,000) while the nginx router switches, rolls back and switches
// ten times back to back, three rounds; it reports failed requests, latency
// during each kind of move against the steady state, and when the old color
// stopped answering.
//
// BenchmarkSwitch prints a table of median, p90, p99, min and max, and the median time
// from the call at which each phase of a promote and a rollback was reached.
// Run it with `make bench`; docs/benchmarks.md has the results and how to
// read them. The benchmark asserts no timing: only functional errors fail it.
package bench
