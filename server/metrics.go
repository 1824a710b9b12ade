package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/store"
)

// DatasetStatuser reports the serving datasets (implemented by
// *store.Store).
type DatasetStatuser interface {
	Status(now time.Time) []store.Status
}

// Metrics holds the Prometheus registry of the service. It is an Auditor
// (contacts per decision and reason, dataset loads) and a Denier (refused
// calls); New adds its interceptors (requests and latency per method and
// code) when Config.Metrics is set. Label values are method names, codes,
// enum names and dataset kinds: never request content.
type Metrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	inFlight    *prometheus.GaugeVec
	contacts    *prometheus.CounterVec
	reasons     *prometheus.CounterVec
	refused     *prometheus.CounterVec
	loads       *prometheus.CounterVec
	loadSeconds *prometheus.HistogramVec
	rejectLines *prometheus.CounterVec
}

// NewMetrics returns the metrics, with Go runtime and process collectors,
// and, when data is not nil, gauges of the serving datasets' age, record
// counts and staleness read at every scrape. It panics only on a
// programming error (duplicate metric).
func NewMetrics(data DatasetStatuser) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "robinscreen_requests_total", Help: "gRPC calls completed, by method and status code.",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "robinscreen_request_duration_seconds", Help: "gRPC call duration (streams: from open to close), by method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"method"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "robinscreen_requests_in_flight", Help: "gRPC calls and streams in progress, by method.",
		}, []string{"method"}),
		contacts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "robinscreen_contacts_screened_total", Help: "Contacts screened, by method and decision.",
		}, []string{"method", "decision"}),
		reasons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "robinscreen_contact_reasons_total", Help: "Reasons given in screening results, by method and reason.",
		}, []string{"method", "reason"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "robinscreen_requests_refused_total", Help: "Calls refused before the handler (authentication, authorization, rate limit), by method and ErrorInfo reason.",
		}, []string{"method", "reason"}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "robinscreen_dataset_events_total", Help: "Dataset loads, refused loads and rollbacks, by kind and action.",
		}, []string{"kind", "action"}),
		loadSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "robinscreen_dataset_load_duration_seconds", Help: "Duration of dataset loads (accepted and refused), by kind.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 14),
		}, []string{"kind"}),
		rejectLines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "robinscreen_dataset_rejected_lines_total", Help: "Lines rejected by dataset loads, by kind.",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.contacts, m.reasons, m.refused, m.loads, m.loadSeconds, m.rejectLines,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if data != nil {
		m.reg.MustRegister(datasetCollector{data: data, now: time.Now})
	}
	if sr, ok := data.(ScrubReporter); ok {
		m.reg.MustRegister(scrubCollector{sr})
	}
	return m
}

// ScrubReporter reports the store's scrubs and damaged versions
// (implemented by *store.Store); NewMetrics exports them when its data
// implements it.
type ScrubReporter interface {
	ScrubStats() store.ScrubStats
	Damage(kind string) *store.DamageError
}

// scrubCollector reads the scrub counters and damage at scrape time.
type scrubCollector struct{ r ScrubReporter }

var (
	scrubRuns = prometheus.NewDesc("robinscreen_scrub_runs_total",
		"Scrubs run: re-verifications of the serving dataset versions' files against their manifests.", nil, nil)
	scrubFailures = prometheus.NewDesc("robinscreen_scrub_failures_total",
		"Scrubs that found a damaged serving dataset version.", nil, nil)
	scrubLastSuccess = prometheus.NewDesc("robinscreen_scrub_last_success_timestamp_seconds",
		"Unix time of the last scrub that found every serving version intact; 0 before the first.", nil, nil)
	scrubDuration = prometheus.NewDesc("robinscreen_scrub_last_duration_seconds",
		"Duration of the last scrub.", nil, nil)
	dsDamaged = prometheus.NewDesc("robinscreen_dataset_damaged",
		"1 when the serving dataset version (or the one refused at start-up) of a kind failed verification, else 0.", []string{"kind"}, nil)
)

func (c scrubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{scrubRuns, scrubFailures, scrubLastSuccess, scrubDuration, dsDamaged} {
		ch <- d
	}
}

func (c scrubCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.r.ScrubStats()
	last := 0.0
	if !st.LastSuccess.IsZero() {
		last = float64(st.LastSuccess.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(scrubRuns, prometheus.CounterValue, float64(st.Runs))
	ch <- prometheus.MustNewConstMetric(scrubFailures, prometheus.CounterValue, float64(st.Failures))
	ch <- prometheus.MustNewConstMetric(scrubLastSuccess, prometheus.GaugeValue, last)
	ch <- prometheus.MustNewConstMetric(scrubDuration, prometheus.GaugeValue, st.LastDuration.Seconds())
	for _, kind := range store.Kinds {
		v := 0.0
		if c.r.Damage(kind) != nil {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(dsDamaged, prometheus.GaugeValue, v, kind)
	}
}

// Registry returns the registry, to register more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Screened counts contacts by decision and reasons, once per label and
// message.
func (m *Metrics) Screened(_ context.Context, method string, results []*pb.ScreeningResult) {
	method = shortMethod(method)
	var t tally
	t.add(results)
	t.each(func(label string, n int) { m.contacts.WithLabelValues(method, label).Add(float64(n)) },
		func(label string, n int) { m.reasons.WithLabelValues(method, label).Add(float64(n)) })
}

// Dataset counts loads, refusals and rollbacks, load durations and
// rejected lines.
func (m *Metrics) Dataset(_ context.Context, ev DatasetEvent) {
	m.loads.WithLabelValues(ev.Kind, ev.Action).Inc()
	if ev.Action == ActionLoad || ev.Action == ActionRefused {
		if ev.Seconds > 0 {
			m.loadSeconds.WithLabelValues(ev.Kind).Observe(ev.Seconds)
		}
		m.rejectLines.WithLabelValues(ev.Kind).Add(float64(ev.Rejected))
	}
}

// Denied counts a refused call.
func (m *Metrics) Denied(_ context.Context, method string, _ codes.Code, reason string) {
	m.refused.WithLabelValues(shortMethod(method), reason).Inc()
}

// shortMethod is "Service/Method" without the package, for labels.
func shortMethod(full string) string {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndex(full, "/"); i >= 0 {
		svc := full[:i]
		if j := strings.LastIndex(svc, "."); j >= 0 {
			svc = svc[j+1:]
		}
		return svc + "/" + full[i+1:]
	}
	return full
}

//go:noinline (see begin)
func (m *Metrics) observe(method string, start time.Time, err error) {
	m.requests.WithLabelValues(method, status.Code(err).String()).Inc()
	m.latency.WithLabelValues(method).Observe(time.Since(start).Seconds())
}

func metricsUnary(m *Metrics) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if m == nil {
			return h(ctx, req)
		}
		method := shortMethod(info.FullMethod)
		start := time.Now()
		g := m.begin(method)
		defer g.Dec()
		resp, err := h(ctx, req)
		m.observe(method, start, err)
		return resp, err
	}
}

// begin counts a call to method in flight and returns the gauge to
// decrement when it ends. A function of its own, so that the label lookup
// is not on the stack while the handler runs.
//
//go:noinline
func (m *Metrics) begin(method string) prometheus.Gauge {
	g := m.inFlight.WithLabelValues(method)
	g.Inc()
	return g
}

func metricsStream(m *Metrics) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if m == nil {
			return h(srv, ss)
		}
		method := shortMethod(info.FullMethod)
		start := time.Now()
		g := m.inFlight.WithLabelValues(method)
		g.Inc()
		defer g.Dec()
		err := h(srv, ss)
		m.observe(method, start, err)
		return err
	}
}

// datasetCollector reads the serving datasets at scrape time.
type datasetCollector struct {
	data DatasetStatuser
	now  func() time.Time
}

var (
	dsAge = prometheus.NewDesc("robinscreen_dataset_age_seconds",
		"Age of the serving dataset (now minus its publication or production date), by kind.", []string{"kind"}, nil)
	dsRecords = prometheus.NewDesc("robinscreen_dataset_records",
		"Records in the serving dataset, by kind.", []string{"kind"}, nil)
	dsStale = prometheus.NewDesc("robinscreen_dataset_stale",
		"1 when the serving dataset is older than its maximum age (screening answers REVIEW), else 0.", []string{"kind"}, nil)
	dsInfo = prometheus.NewDesc("robinscreen_dataset_info",
		"Always 1; labels name the serving version of each kind.", []string{"kind", "version"}, nil)
	dsLoaded = prometheus.NewDesc("robinscreen_dataset_loaded_timestamp_seconds",
		"Unix time the serving dataset was loaded, by kind.", []string{"kind"}, nil)
)

func (c datasetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dsAge, dsRecords, dsStale, dsInfo, dsLoaded} {
		ch <- d
	}
}

func (c datasetCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.data.Status(c.now()) {
		stale := 0.0
		if s.Stale {
			stale = 1
		}
		ch <- prometheus.MustNewConstMetric(dsAge, prometheus.GaugeValue, s.Age.Seconds(), s.Kind)
		ch <- prometheus.MustNewConstMetric(dsRecords, prometheus.GaugeValue, float64(s.Records), s.Kind)
		ch <- prometheus.MustNewConstMetric(dsStale, prometheus.GaugeValue, stale, s.Kind)
		ch <- prometheus.MustNewConstMetric(dsInfo, prometheus.GaugeValue, 1, s.Kind, s.Version)
		if !s.LoadedAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(dsLoaded, prometheus.GaugeValue, float64(s.LoadedAt.Unix()), s.Kind)
		}
	}
}
