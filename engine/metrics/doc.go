// Package metrics writes what a plan or apply observed as Prometheus
// metrics, in the node exporter's textfile format (plan and apply
// -metrics-file), with the official client library: its registry, gauge
// vectors and WriteToTextfile. docs/metrics.md lists every metric and its
// labels; Metrics here is the same list, and a test keeps them equal.
package metrics
