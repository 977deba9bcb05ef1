package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's self-metrics. Names follow Alloy's (ckit's
// cluster_node_* and cluster_transport_*, Alloy's cluster_ready_for_traffic
// and cluster_minimum_size) with the cluster_name label where Alloy has
// it; shoal's own carry the shoal_cluster_ prefix.
type metrics struct {
	nodeInfo       *prometheus.GaugeVec
	nodePeers      *prometheus.GaugeVec
	gossipEvents   *prometheus.CounterVec
	rxPackets      prometheus.Counter
	rxBytes        prometheus.Counter
	rxDropped      prometheus.Counter
	txPackets      prometheus.Counter
	txBytes        prometheus.Counter
	txFailed       prometheus.Counter
	txDropped      prometheus.Counter
	txQueue        prometheus.Gauge
	streams        prometheus.Gauge
	ready          prometheus.Gauge
	minimumSize    prometheus.Gauge
	targetsOwned   *prometheus.GaugeVec
	configDrift    prometheus.Gauge
	targetDrift    prometheus.Gauge
	clockOffset    *prometheus.GaugeVec
	refutations    prometheus.Counter
	refused        prometheus.Counter
	holds          *prometheus.CounterVec
	metaTruncated  prometheus.Counter
	recordsRefused *prometheus.CounterVec
	refuted        *prometheus.CounterVec
	skewExcluded   prometheus.Gauge
	skewStepBacks  prometheus.Counter
	plans          prometheus.Counter
	placementBytes prometheus.Counter
	collectorFuncs []prometheus.Collector
}

func newMetrics(clusterName string) *metrics {
	cl := prometheus.Labels{"cluster_name": clusterName}
	m := &metrics{
		nodeInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cluster_node_info", Help: "1 for the state this node is in.", ConstLabels: cl,
		}, []string{"state"}),
		nodePeers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cluster_node_peers", Help: "Live nodes by state, this node included.", ConstLabels: cl,
		}, []string{"state"}),
		gossipEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cluster_node_gossip_received_events_total", Help: "Membership events received through gossip.", ConstLabels: cl,
		}, []string{"event"}),
		rxPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cluster_transport_rx_packets_total", Help: "Gossip packets received.", ConstLabels: cl,
		}),
		rxBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cluster_transport_rx_bytes_total", Help: "Bytes of gossip packets received.", ConstLabels: cl,
		}),
		rxDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_cluster_transport_rx_packets_dropped_total", Help: "Received gossip packets dropped because the inbound queue was full.", ConstLabels: cl,
		}),
		txPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cluster_transport_tx_packets_total", Help: "Gossip packets sent.", ConstLabels: cl,
		}),
		txBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cluster_transport_tx_bytes_total", Help: "Bytes of gossip packets sent.", ConstLabels: cl,
		}),
		txFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cluster_transport_tx_packets_failed_total", Help: "Gossip packets that could not be sent.", ConstLabels: cl,
		}),
		txDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_cluster_transport_tx_packets_dropped_total", Help: "Outgoing gossip packets dropped because a peer's queue was full.", ConstLabels: cl,
		}),
		txQueue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cluster_transport_tx_packet_queue_length", Help: "Outgoing gossip packets waiting, over all peers.", ConstLabels: cl,
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cluster_transport_streams", Help: "Open gossip streams.", ConstLabels: cl,
		}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cluster_ready_for_traffic", Help: "1 when the node is a participant and the cluster has its minimum size (or the wait timed out).", ConstLabels: cl,
		}),
		minimumSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cluster_minimum_size", Help: "The --cluster.wait-for-size setting.", ConstLabels: cl,
		}),
		targetsOwned: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_cluster_targets_owned", Help: "Targets this node owns now, per clustered component.",
		}, []string{"component"}),
		configDrift: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_cluster_config_drift", Help: "Live peers whose configuration fingerprint differs from this node's.",
		}),
		targetDrift: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_cluster_target_set_drift", Help: "Live peers whose target set differs from this node's for some component.",
		}),
		clockOffset: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_cluster_clock_offset_seconds", Help: "Estimated offset of each peer's clock from this node's.",
		}, []string{"peer"}),
		refutations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_cluster_declared_dead_total", Help: "Times this node learnt that peers had declared it dead, refuted it and re-entered participant.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_cluster_peers_refused_total", Help: "Times a live peer's address refused a connection, so that this node treated it as dead before gossip declared it.",
		}),
		holds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_cluster_holds_released_total", Help: "Handoff holds released, by reason (watermark, dead, timeout).",
		}, []string{"reason"}),
		metaTruncated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_cluster_meta_truncated_total", Help: "Node records that had to drop target digests to fit 512 bytes.",
		}),
		recordsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_cluster_records_refused_total", Help: "Peers' records refused before gossip adopted them, by reason (see docs/clustering.md).",
		}, []string{"reason"}),
		refuted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_cluster_refutations_total", Help: "News about this node that it refuted, by kind: suspect, dead (relayed by peers, unsigned) or alive (a record of its name that is not its own).",
		}, []string{"kind"}),
		skewExcluded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_cluster_clock_skew_excluded", Help: "1 while this node stays a viewer because its clock disagrees with the fleet's by more than a quarter of the handoff delay.",
		}),
		skewStepBacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_cluster_clock_skew_step_backs_total", Help: "Times this node stepped back from participant to viewer because its clock drifted from the fleet's.",
		}),
		plans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_cluster_placement_plans_total", Help: "Placement plans this node made as the planner (--cluster.placement=series).",
		}),
		placementBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_cluster_placement_sent_bytes_total", Help: "Bytes of load reports and placement plans sent directly to peers (push/pull state not included).",
		}),
	}
	for _, r := range refuseReasons {
		m.recordsRefused.WithLabelValues(r)
	}
	for _, k := range []string{"suspect", "dead", "alive"} {
		m.refuted.WithLabelValues(k)
	}
	for _, s := range stateNames {
		m.nodeInfo.WithLabelValues(s)
		m.nodePeers.WithLabelValues(s)
	}
	for _, r := range []string{"watermark", "dead", "timeout"} {
		m.holds.WithLabelValues(r)
	}
	return m
}

// addFuncs registers gauges read on scrape from the running memberlist.
func (m *metrics) addFuncs(clusterName string, health, alive, rxQueue func() float64) {
	cl := prometheus.Labels{"cluster_name": clusterName}
	m.collectorFuncs = []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cluster_node_gossip_health_score", Help: "Memberlist's health score; 0 is healthy.", ConstLabels: cl,
		}, health),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cluster_node_gossip_alive_peers", Help: "Live nodes known to gossip, this node included.", ConstLabels: cl,
		}, alive),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cluster_transport_rx_packet_queue_length", Help: "Received gossip packets waiting for memberlist.", ConstLabels: cl,
		}, rxQueue),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	cs := []prometheus.Collector{
		m.nodeInfo, m.nodePeers, m.gossipEvents, m.rxPackets, m.rxBytes, m.rxDropped,
		m.txPackets, m.txBytes, m.txFailed, m.txDropped, m.txQueue, m.streams,
		m.ready, m.minimumSize, m.targetsOwned, m.configDrift, m.targetDrift,
		m.clockOffset, m.refutations, m.refused, m.holds, m.metaTruncated,
		m.recordsRefused, m.refuted,
		m.skewExcluded, m.skewStepBacks, m.plans, m.placementBytes,
	}
	cs = append(cs, m.collectorFuncs...)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
