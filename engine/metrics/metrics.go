package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/trustform/trustform/providers"
)

// Metric is one metric trustform writes: its name, what it means, its
// labels, and, where several samples may share labels, how they combine.
type Metric struct {
	Name   string
	Help   string
	Labels []string
	// Min: samples with the same labels keep the smallest value (the
	// earliest signature expiry among a zone's RRsets); otherwise there
	// is one sample per label set.
	Min bool
}

// Metrics written by engine.Run.Measure and the run's outcome.
const (
	Drift              = "trustform_drift"
	GateOpens          = "trustform_gate_opens_timestamp_seconds"
	RevocationsPending = "trustform_revocations_pending"
	LastRun            = "trustform_last_run_timestamp_seconds"
	LastRunSuccess     = "trustform_last_run_success"
	LastSuccess        = "trustform_last_success_timestamp_seconds"
)

// Metrics lists every metric, in the order docs/metrics.md gives them.
var Metrics = []Metric{
	{providers.MetricCertificateNotAfter, "When the certificate deployed at the certificate block's files expires (Unix time).", []string{"address"}, false},
	{providers.MetricRenewalWindowStart, "When the certificate's renewal window opens: the CA's renewal information (ARI) where it gives one, else not_after less renew_before (Unix time).", []string{"address"}, false},
	{providers.MetricServedNotAfter, "When the certificate a vhost or service serves at an endpoint expires, as a client's handshake finds it (Unix time).", []string{"address", "endpoint"}, false},
	{providers.MetricServedDeployed, "1 when the endpoint serves the certificate deployed in the files, 0 when it serves another one or does not answer.", []string{"address", "endpoint"}, false},
	{providers.MetricTLSAMatch, "1 when the TLSA RRset an authoritative server publishes matches the chain the endpoint serves, 0 otherwise.", []string{"address", "endpoint", "server"}, false},
	{providers.MetricSignaturesExpire, "When the earliest RRSIG over the zone's managed RRsets that a server serves expires (Unix time).", []string{"zone", "server"}, true},
	{providers.MetricMTASTSServed, "1 when senders fetch the MTA-STS policy file as it is deployed, under the published id, 0 otherwise.", []string{"address"}, false},
	{providers.MetricMTASTSMXCertificates, "1 when every managed MX serves, over STARTTLS, a certificate valid in the Web PKI for its name, 0 otherwise.", []string{"address"}, false},
	{Drift, "1 when the resource differs from what the last apply left (drift), 0 when it does not.", []string{"address", "kind"}, false},
	{GateOpens, "When a step held at a gate (rollover_wait, a TTL, max_age) may run (Unix time); present while the step is pending.", []string{"address", "phase"}, false},
	{RevocationsPending, "Replaced certificates still to revoke after an approved -revoke.", []string{"address"}, false},
	{LastRun, "When the command last ran (Unix time).", []string{"command"}, false},
	{LastRunSuccess, "1 when the command's last run succeeded, 0 when it failed.", []string{"command"}, false},
	{LastSuccess, "When the command last succeeded (Unix time).", []string{"command"}, false},
}

// Run is the outcome of the command that writes the file.
type Run struct {
	Command string // plan, apply
	At      time.Time
	OK      bool
	// Observed: the run observed the world, and its samples replace the
	// file's. A run that failed before it could (a configuration error,
	// the state locked) keeps the file's samples and records only itself.
	Observed bool
}

// Write writes samples and the run's outcome to path, atomically (a
// temporary file renamed over it). The last runs of other commands are
// carried over from the file that is there, so that one file holds plan's
// and apply's; a file that is not trustform's metrics is refused rather
// than replaced. Samples of metrics not in Metrics are an error.
func Write(path string, samples []providers.Sample, run Run) error {
	old, err := read(path)
	if err != nil {
		return err
	}
	last := providers.Sample{Name: LastSuccess, Labels: map[string]string{"command": run.Command}, Value: providers.Timestamp(run.At)}
	if !run.OK {
		last.Value = 0
		for _, m := range old[LastSuccess].GetMetric() {
			if command(m) == run.Command {
				last.Value = m.GetGauge().GetValue()
			}
		}
	}
	samples = append(slices.Clone(samples),
		providers.Sample{Name: LastRun, Labels: map[string]string{"command": run.Command}, Value: providers.Timestamp(run.At)},
		providers.Sample{Name: LastRunSuccess, Labels: map[string]string{"command": run.Command}, Value: providers.Bool(run.OK)})
	if last.Value != 0 {
		samples = append(samples, last)
	}
	reg, err := registry(samples)
	if err != nil {
		return err
	}
	return prometheus.WriteToTextfile(path, carried{reg, old, run})
}

// registry holds samples in gauge vectors, one per metric.
func registry(samples []providers.Sample) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	vecs := map[string]*prometheus.GaugeVec{}
	byName := map[string]Metric{}
	for _, m := range Metrics {
		byName[m.Name] = m
	}
	set := map[string]float64{}
	for _, s := range samples {
		m, ok := byName[s.Name]
		if !ok {
			return nil, fmt.Errorf("metrics: %s is not a metric of docs/metrics.md", s.Name)
		}
		v := vecs[m.Name]
		if v == nil {
			v = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: m.Name, Help: m.Help}, m.Labels)
			reg.MustRegister(v)
			vecs[m.Name] = v
		}
		values := make([]string, len(m.Labels))
		for i, l := range m.Labels {
			values[i] = s.Labels[l]
		}
		key := fmt.Sprint(m.Name, values)
		if old, seen := set[key]; seen && m.Min && old < s.Value {
			continue
		}
		set[key] = s.Value
		v.WithLabelValues(values...).Set(s.Value)
	}
	return reg, nil
}

// read parses the metrics file at path, if there is one.
func read(path string) (map[string]*dto.MetricFamily, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		return nil, fmt.Errorf("%s is not a metrics file trustform wrote (%v): not replaced", path, err)
	}
	for name := range families {
		if !strings.HasPrefix(name, "trustform_") {
			return nil, fmt.Errorf("%s holds %s, not trustform's metrics: not replaced", path, name)
		}
	}
	return families, nil
}

// carried gathers the registry and, from the file being replaced (old),
// the last runs of the other commands, and everything else when the run
// observed nothing.
type carried struct {
	reg *prometheus.Registry
	old map[string]*dto.MetricFamily
	run Run
}

func (c carried) Gather() ([]*dto.MetricFamily, error) {
	mine, err := c.reg.Gather()
	if err != nil {
		return nil, err
	}
	old := c.old
	have := map[string]bool{}
	for _, f := range mine {
		have[f.GetName()] = true
		switch f.GetName() {
		case LastRun, LastRunSuccess, LastSuccess:
			for _, m := range old[f.GetName()].GetMetric() {
				if command(m) != c.run.Command {
					f.Metric = append(f.Metric, m)
				}
			}
		}
		slices.SortFunc(f.Metric, compareLabels)
	}
	for name, f := range old {
		if !have[name] && (!c.run.Observed || name == LastSuccess) {
			mine = append(mine, f)
		}
	}
	slices.SortFunc(mine, func(a, b *dto.MetricFamily) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return mine, nil
}

func compareLabels(a, b *dto.Metric) int {
	return slices.CompareFunc(a.GetLabel(), b.GetLabel(), func(x, y *dto.LabelPair) int {
		return cmp.Or(cmp.Compare(x.GetName(), y.GetName()), cmp.Compare(x.GetValue(), y.GetValue()))
	})
}

// Runs reads the last run of each command from the metrics file at path
// (none when there is no file), sorted by command.
func Runs(path string) ([]Run, error) {
	families, err := read(path)
	if err != nil {
		return nil, err
	}
	ok := map[string]bool{}
	for _, m := range families[LastRunSuccess].GetMetric() {
		ok[command(m)] = m.GetGauge().GetValue() == 1
	}
	var out []Run
	for _, m := range families[LastRun].GetMetric() {
		sec := m.GetGauge().GetValue()
		out = append(out, Run{Command: command(m), At: time.Unix(int64(sec), 0).UTC(), OK: ok[command(m)], Observed: true})
	}
	slices.SortFunc(out, func(a, b Run) int { return cmp.Compare(a.Command, b.Command) })
	return out, nil
}

func command(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "command" {
			return l.GetValue()
		}
	}
	return ""
}
