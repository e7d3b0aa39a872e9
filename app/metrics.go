package app

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the application's Prometheus collectors.
type metrics struct {
	height   prometheus.Gauge
	txs      *prometheus.CounterVec
	checks   *prometheus.CounterVec
	blockTxs prometheus.Histogram
	finalize prometheus.Histogram
	commitD  prometheus.Histogram
	writes   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		height: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mycel_app_height", Help: "Last committed height."}),
		txs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mycel_app_txs_total",
			Help: "Transactions executed in blocks, by result codespace and code (0 is success)."}, []string{"codespace", "code"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mycel_app_checktx_total",
			Help: "CheckTx calls, by result codespace and code."}, []string{"codespace", "code"}),
		blockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mycel_app_block_txs",
			Help: "Transactions per block.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		finalize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mycel_app_finalize_seconds",
			Help: "Time to execute a block.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		commitD: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mycel_app_commit_seconds",
			Help: "Time to write a block's state, Merkle nodes included.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{Name: "mycel_app_state_writes_total",
			Help: "State keys written or deleted by committed blocks."}),
	}
	if reg != nil {
		reg.MustRegister(m.height, m.txs, m.checks, m.blockTxs, m.finalize, m.commitD, m.writes)
	}
	return m
}

func (m *metrics) tx(space string, code uint32) {
	m.txs.WithLabelValues(space, strconv.FormatUint(uint64(code), 10)).Inc()
}

func (m *metrics) check(space string, code uint32) {
	m.checks.WithLabelValues(space, strconv.FormatUint(uint64(code), 10)).Inc()
}

func (m *metrics) block(height int64, txs int, d time.Duration) {
	m.blockTxs.Observe(float64(txs))
	m.finalize.Observe(d.Seconds())
}

func (m *metrics) commit(height int64, writes, nodes int, d time.Duration) {
	m.height.Set(float64(height))
	m.writes.Add(float64(writes))
	m.commitD.Observe(d.Seconds())
}
