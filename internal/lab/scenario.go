package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"time"
)

// ScrapeComponent is the component every lab config defines; its debug
// info tells which targets a node scrapes.
const ScrapeComponent = "prometheus.scrape.lab"

// ModuleScrapeComponent is the same component when the scrape is defined
// inside a declared component (ScenarioOptions.Module), as the
// k8s-monitoring Helm chart defines its scrapes: the module's ID, then the
// component's.
const ModuleScrapeComponent = "lab_scrape.default/" + ScrapeComponent

// ScenarioOptions size a scenario. Zero fields take the defaults noted.
type ScenarioOptions struct {
	Nodes        int           // 3
	Targets      int           // 300
	Series       int           // series per target, 10
	Interval     time.Duration // 2s
	Timeout      time.Duration // interval/2
	HandoffDelay time.Duration // 2s
	// Observe is how long a scenario watches a steady fleet, 10 intervals.
	Observe time.Duration
	// Mode is how the counting receiver answers rejects.
	Mode RejectMode
	// Binary is the shoal binary; empty means ShoalBinary().
	Binary string
	// KeepDir keeps the nodes' configs, data and logs.
	KeepDir bool
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
	// Config, when set, replaces the generated config of each node.
	Config func(r *Rig, node string) string
	// Fleet adjusts the fleet's configuration (flags, cluster name, ...).
	Fleet func(*FleetConfig)
	// Partitioned runs every node in its own network namespace.
	Partitioned bool
	// Module defines the clustered prometheus.scrape inside a declare
	// block, instantiated once, instead of at the top of the config.
	Module bool
	// Sink, when set, is the remote write receiver the nodes write to
	// instead of the lab's counting receiver (which is then not started):
	// Prometheus' own handler over a TSDB, say. Its counts by instance
	// feed WaitDelivered and the report.
	Sink Sink
	// Replicas is the clustering block's replicas (2: a hot standby for
	// every target); 0 or 1 leaves it out. The standby scenario sets 2.
	Replicas int
	// Endpoint holds extra attribute lines for the remote write endpoint
	// block, e.g. `protobuf_message = "io.prometheus.write.v2.Request"`.
	Endpoint string
	// HeavyEvery makes every HeavyEvery-th target (0, N, 2N, ...) heavy:
	// it exposes HeavySeries series instead of Series. 0 keeps every
	// target alike. The weighted scenario defaults them to 100 and 500 ×
	// Series: 1% of the targets carry 500 times the series of the rest.
	HeavyEvery  int
	HeavySeries int
	// PlanInterval is --cluster.placement-interval in the weighted
	// scenario (default 15s).
	PlanInterval time.Duration
}

// Sink is a remote write receiver a scenario writes to. The lab's
// Receiver is one; a test can bring another.
type Sink interface {
	// URL is the write endpoint.
	URL() string
	// ByInstance sums what the sink holds by `instance` label; UpTimes
	// must be filled (WaitDelivered waits on them).
	ByInstance() map[string]InstanceStats
	// ByInstanceBetween is ByInstance restricted to samples stamped in
	// [from, to).
	ByInstanceBetween(from, to time.Time) map[string]InstanceStats
}

// The defaults of the scenarios.
const (
	defaultInterval = 2 * time.Second
	defaultHandoff  = 2 * time.Second
)

func (o *ScenarioOptions) defaults() {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Targets == 0 {
		o.Targets = 300
	}
	if o.Series == 0 {
		o.Series = 10
	}
	if o.Interval == 0 {
		o.Interval = defaultInterval
	}
	if o.Timeout == 0 {
		o.Timeout = o.Interval / 2
	}
	if o.HandoffDelay == 0 {
		o.HandoffDelay = defaultHandoff
	}
	if o.Observe == 0 {
		o.Observe = 10 * o.Interval
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Rig is a running scenario: targets, a counting receiver (or the
// options' Sink) and a fleet whose nodes scrape the targets and write to
// the receiver.
type Rig struct {
	Opts     ScenarioOptions
	Targets  *Targets
	Receiver *Receiver // nil when Opts.Sink is set
	Fleet    *Fleet
	Network  *Network // with Partitioned

	series   SeriesFigures  // the weighted scenario's, as they are measured
	seriesOf map[string]int // series by target address
}

// sink is where the nodes write: Opts.Sink, or else the lab's receiver.
func (r *Rig) sink() Sink {
	if r.Opts.Sink != nil {
		return r.Opts.Sink
	}
	return r.Receiver
}

// NewRig starts the targets, the receiver and a fleet of nodes nodes (which
// may differ from Opts.Nodes, for a scale-up), without waiting for them.
func NewRig(ctx context.Context, o ScenarioOptions, nodes int) (*Rig, error) {
	o.defaults()
	r := &Rig{Opts: o}
	host, listen := "127.0.0.1", net.Listen
	if o.Partitioned {
		nw, err := NewNetwork()
		if err != nil {
			return nil, err
		}
		r.Network = nw
		host, listen = WorldIP, nw.Listen
	}
	var err error
	topts := []TargetOption{WithListener(host, listen)}
	if o.HeavyEvery > 0 {
		topts = append(topts, WithSeries(func(i int) int {
			if i%o.HeavyEvery == 0 {
				return o.HeavySeries
			}
			return o.Series
		}))
	}
	if r.Targets, err = StartTargets(o.Targets, o.Series, topts...); err != nil {
		r.Close()
		return nil, err
	}
	if o.Sink == nil {
		if r.Receiver, err = StartReceiver(WithRejectMode(o.Mode), ReceiverListener(host, listen)); err != nil {
			r.Close()
			return nil, err
		}
	}
	fc := FleetConfig{
		Binary:       o.Binary,
		KeepDir:      o.KeepDir,
		HandoffDelay: o.HandoffDelay,
		Network:      r.Network,
		Config: func(node string) string {
			if o.Config != nil {
				return o.Config(r, node)
			}
			return r.Config()
		},
	}
	if o.Fleet != nil {
		o.Fleet(&fc)
	}
	r.progress("starting %d nodes, %d targets of %d series, interval %s", nodes, o.Targets, o.Series, o.Interval)
	if r.Fleet, err = StartFleet(ctx, fc, nodes); err != nil {
		r.Close()
		return nil, err
	}
	r.Targets.SetIdentify(r.Fleet.Identify)
	return r, nil
}

// ScrapeID is the ID of the config's clustered scrape component.
func (r *Rig) ScrapeID() string {
	if r.Opts.Module {
		return ModuleScrapeComponent
	}
	return ScrapeComponent
}

// Config is the lab's standard configuration: discovery.file over the
// targets, a clustered prometheus.scrape, and remote write to the receiver,
// bisecting rejected requests when the receiver rejects them whole (as
// docs/operations.md advises for Prometheus) and not when it keeps the
// good samples. With Opts.Module the scrape is defined in a declare block.
func (r *Rig) Config() string {
	if r.Opts.Module {
		return r.moduleConfig()
	}
	return fmt.Sprintf(`discovery.file "targets" {
  files = [%q]
}

prometheus.scrape "lab" {
  targets         = discovery.file.targets.targets
  forward_to      = [prometheus.remote_write.rx.receiver]
  scrape_interval = %q
  scrape_timeout  = %q

  clustering {
    enabled = true
%s  }
}

prometheus.remote_write "rx" {
  endpoint {
    url = %q
    retry_on_http_400_by_bisection = %t
%s  }
}
`, r.Targets.FileSD(), r.Opts.Interval.String(), r.Opts.Timeout.String(), r.replicasLine(), r.sink().URL(), r.Opts.Mode == AllOrNothing, r.endpointExtra())
}

// moduleConfig is Config with the scrape inside a custom component, the
// way Helm charts such as k8s-monitoring write theirs.
func (r *Rig) moduleConfig() string {
	return fmt.Sprintf(`discovery.file "targets" {
  files = [%q]
}

declare "lab_scrape" {
  argument "targets" {
    comment = "What to scrape."
  }

  argument "forward_to" {
    comment = "Where to send the samples."
  }

  argument "scrape_interval" {
    optional = true
    default  = "60s"
  }

  prometheus.scrape "lab" {
    targets         = argument.targets.value
    forward_to      = argument.forward_to.value
    scrape_interval = argument.scrape_interval.value
    scrape_timeout  = %q

    clustering {
      enabled = true
    }
  }
}

lab_scrape "default" {
  targets         = discovery.file.targets.targets
  forward_to      = [prometheus.remote_write.rx.receiver]
  scrape_interval = %q
}

prometheus.remote_write "rx" {
  endpoint {
    url = %q
%s  }
}
`, r.Targets.FileSD(), r.Opts.Timeout.String(), r.Opts.Interval.String(), r.sink().URL(), r.endpointExtra())
}

// endpointExtra is Opts.Endpoint indented into the endpoint block, one
// attribute a line.
func (r *Rig) endpointExtra() string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(r.Opts.Endpoint), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}

func (r *Rig) progress(format string, args ...any) {
	fmt.Fprintf(r.Opts.Progress, "%s lab: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// Close stops the fleet, the receiver, the targets and the network.
func (r *Rig) Close() {
	if r.Fleet != nil {
		r.Fleet.Close()
	}
	if r.Receiver != nil {
		r.Receiver.Close()
	}
	if r.Targets != nil {
		r.Targets.Close()
	}
	if r.Network != nil {
		_ = r.Network.Close()
	}
}

// Owners returns, per running node, the targets its debug info lists.
func (r *Rig) Owners(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	for _, n := range r.Fleet.Running() {
		ts, err := n.ScrapedTargets(ctx, r.ScrapeID())
		if err != nil {
			return nil, err
		}
		out[n.Name] = ts
	}
	return out, nil
}

// Split checks owners against the targets: it returns the targets claimed
// by more than one node and those claimed by none.
func (r *Rig) Split(owners map[string][]string) (overlap, uncovered []string) {
	claims := map[string]int{}
	for _, ts := range owners {
		for _, a := range ts {
			claims[a]++
		}
	}
	for _, a := range r.Targets.Addrs() {
		switch claims[a] {
		case 0:
			uncovered = append(uncovered, a)
		case 1:
		default:
			overlap = append(overlap, a)
		}
	}
	return overlap, uncovered
}

// WaitConverged waits until every running node sees every running node as
// a participant, each owns a share of the targets, the split is disjoint
// and complete, and the split has stayed the same for the handoff delay
// plus two intervals: a join or a leave moves ownership only Δ after the
// state change, so a split seen at once may still be the old one.
func (r *Rig) WaitConverged(ctx context.Context) error {
	var (
		why        string
		stable     string    // the split last seen converged
		stableFrom time.Time // since when it has been seen
	)
	settle := r.Opts.HandoffDelay + 2*r.Opts.Interval
	err := WaitFor(ctx, func() bool {
		split, w := r.converged(ctx)
		if ctx.Err() != nil && why != "" {
			return false // a check cut short by the deadline says nothing new
		}
		why = w
		if w != "" {
			stable = ""
			return false
		}
		if split != stable {
			stable, stableFrom = split, time.Now()
		}
		if held := time.Since(stableFrom); held < settle {
			why = fmt.Sprintf("the split has held for %s of %s", held.Round(time.Millisecond), settle)
			return false
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("lab: fleet did not converge (%s): %w", why, err)
	}
	return nil
}

// converged returns the current split in a comparable form and "", or why
// the fleet has not converged.
func (r *Rig) converged(ctx context.Context) (string, string) {
	running := r.Fleet.Running()
	if len(running) == 0 {
		return "", "no node runs"
	}
	names := map[string]bool{}
	for _, n := range running {
		names[n.Name] = true
	}
	for _, n := range running {
		peers, err := n.Peers(ctx)
		if err != nil {
			return "", err.Error()
		}
		seen := 0
		for _, p := range peers {
			if names[p.Name] && p.State == "participant" && (p.Alive == nil || *p.Alive) {
				seen++
			}
		}
		if seen != len(running) {
			return "", fmt.Sprintf("%s sees %d of %d participants", n.Name, seen, len(running))
		}
	}
	owners, err := r.Owners(ctx)
	if err != nil {
		// Without debug info, the targets' own logs say who scrapes them.
		owners, err = r.ownersFromLog(names)
		if err != nil {
			return "", err.Error()
		}
	}
	overlap, uncovered := r.Split(owners)
	if len(overlap)+len(uncovered) > 0 {
		return "", fmt.Sprintf("%d targets claimed twice, %d by nobody", len(overlap), len(uncovered))
	}
	if r.Targets.Len() >= 10*len(running) {
		for _, n := range running {
			if len(owners[n.Name]) == 0 {
				return "", n.Name + " owns no target yet"
			}
		}
	}
	var b strings.Builder
	for _, node := range sortedNames(owners) {
		ts := append([]string(nil), owners[node]...)
		sort.Strings(ts)
		fmt.Fprintf(&b, "%s:%s;", node, strings.Join(ts, ","))
	}
	return b.String(), ""
}

func sortedNames(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CurrentOwners reads ownership from the running nodes' debug info, or
// from the last two intervals of the scrape log when the debug info cannot
// be read.
func (r *Rig) CurrentOwners(ctx context.Context) map[string][]string {
	if owners, err := r.Owners(ctx); err == nil {
		return owners
	}
	running := map[string]bool{}
	for _, n := range r.Fleet.Running() {
		running[n.Name] = true
	}
	owners, _ := r.ownersFromLog(running)
	return owners
}

// ownersFromLog reads ownership from the scrapes of the last two
// intervals: a target scraped by two nodes there is listed under both, and
// a target scraped by no running node under none.
func (r *Rig) ownersFromLog(running map[string]bool) (map[string][]string, error) {
	to := time.Now().Add(-300 * time.Millisecond)
	from := to.Add(-2 * r.Opts.Interval)
	by := map[string]map[string]bool{}
	for _, s := range r.Targets.Log() {
		if s.Time.Before(from) || !s.Time.Before(to) {
			continue
		}
		who := scraperOf(s)
		if by[s.Addr] == nil {
			by[s.Addr] = map[string]bool{}
		}
		by[s.Addr][who] = true
	}
	out := map[string][]string{}
	for addr, whos := range by {
		for who := range whos {
			if running[who] {
				out[who] = append(out[who], addr)
			}
		}
	}
	return out, nil
}

// WaitDelivered waits until the receiver (or Opts.Sink) holds an `up` sample at or after
// to - interval for every target, so that rejects of the window are final.
// It gives up quietly at the deadline: the figures then show what is
// missing.
func (r *Rig) WaitDelivered(ctx context.Context, to time.Time) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	want := to.Add(-r.Opts.Interval).UnixMilli()
	_ = WaitFor(ctx, func() bool {
		by := r.sink().ByInstance()
		for _, a := range r.Targets.Addrs() {
			ups := by[a].UpTimes
			if len(ups) == 0 || ups[len(ups)-1] < want {
				return false
			}
		}
		return true
	})
}

// Report computes the figures of [from, to), with the owners from the
// nodes' debug info when they can be read.
func (r *Rig) Report(ctx context.Context, scenario string, from, to time.Time) Report {
	fleet := map[string]bool{}
	for _, n := range r.Fleet.Nodes() {
		fleet[n.Name] = true
	}
	obs := Observation{
		Scrapers: fleet,
		Scenario: scenario,
		Interval: r.Opts.Interval,
		From:     from,
		To:       to,
		Targets:  r.Targets.Addrs(),
		Scrapes:  r.Targets.Log(),
		Receiver: r.sink().ByInstanceBetween(from, to),
	}
	owners, err := r.Owners(ctx)
	if err == nil {
		obs.Owners = owners
	}
	rep := Compute(obs)
	var ooo, dup, stale int
	all := r.sink().ByInstance()
	for _, a := range obs.Targets {
		st := all[a]
		ooo, dup, stale = ooo+st.OutOfOrder, dup+st.Duplicates, stale+st.StaleMarkers
	}
	if ooo+dup+stale > rep.OutOfOrder+rep.Duplicates+rep.StaleMarkers {
		rep.Notes = append(rep.Notes, fmt.Sprintf("outside the window (start-up, wind-down): %d out-of-order, %d duplicates, %d staleness markers",
			ooo-rep.OutOfOrder, dup-rep.Duplicates, stale-rep.StaleMarkers))
	}
	if err != nil {
		rep.Notes = append(rep.Notes, "debug info unreadable, balance taken from the scrape log: "+err.Error())
	}
	return rep
}

// sleepCtx waits d unless ctx ends first; scenarios use it to let the
// fleet run for the time being measured, not to synchronise.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ScenarioNames lists the scenarios RunScenario knows.
func ScenarioNames() []string {
	return []string{"split", "crash", standbyName, "rolling", "scaleup", "scaledown", "partition", "weighted"}
}

// StartScenario validates a scenario's name and starts its rig: the
// targets, the receiver and the fleet it begins with (one node fewer for a
// scale-up, namespaces for a partition). Run it with Rig.Run; Close it.
func StartScenario(ctx context.Context, name string, o ScenarioOptions) (*Rig, error) {
	o.defaults()
	nodes := o.Nodes
	switch name {
	case "scaleup":
		nodes = o.Nodes - 1
	case "weighted":
		nodes = o.Nodes - 1
		if o.HeavyEvery == 0 {
			o.HeavyEvery = 100
		}
		if o.HeavySeries == 0 {
			o.HeavySeries = 500 * o.Series
		}
		if o.PlanInterval == 0 {
			o.PlanInterval = 15 * time.Second
		}
		fleet, interval := o.Fleet, o.PlanInterval
		o.Fleet = func(fc *FleetConfig) {
			if fleet != nil {
				fleet(fc)
			}
			extra := fc.Flags
			fc.Flags = func(node string) []string {
				var f []string
				if extra != nil {
					f = extra(node)
				}
				return append(f, "--cluster.placement=series", "--cluster.placement-interval="+interval.String())
			}
		}
	case "partition":
		o.Partitioned = true
	case standbyName:
		if o.Replicas == 0 {
			o.Replicas = 2
		}
	case "split", "crash", "rolling", "scaledown":
	default:
		return nil, fmt.Errorf("lab: unknown scenario %q (known: %s)", name, strings.Join(ScenarioNames(), ", "))
	}
	if nodes < 1 {
		return nil, errors.New("lab: a scenario needs at least one node")
	}
	return NewRig(ctx, o, nodes)
}

// RunScenario runs one named scenario from start to end and returns its
// figures. The fleet is torn down before it returns; an error carries the
// end of every node's log.
func RunScenario(ctx context.Context, name string, o ScenarioOptions) (Report, error) {
	r, err := StartScenario(ctx, name, o)
	if err != nil {
		return Report{}, err
	}
	defer r.Close()
	rep, err := r.Run(ctx, name)
	if err != nil {
		err = fmt.Errorf("%w\n%s", err, r.Fleet.Logs(30))
	}
	return rep, err
}

// Run plays the scenario on a rig made by StartScenario: it waits for the
// fleet to converge, opens the window, does what the scenario does, waits
// until the window's samples are delivered, and computes the figures.
func (r *Rig) Run(ctx context.Context, name string) (Report, error) {
	o := r.Opts
	converge := func(what string) error {
		cctx, cancel := context.WithTimeout(ctx, 45*time.Second)
		defer cancel()
		r.progress("waiting for the fleet to converge %s", what)
		return r.WaitConverged(cctx)
	}
	if err := r.Fleet.WaitReady(ctx); err != nil {
		return Report{}, err
	}
	if err := converge("at start"); err != nil {
		return Report{}, err
	}
	// One interval of margin: the window starts on a fleet already
	// scraping in its steady split.
	if err := sleepCtx(ctx, o.Interval); err != nil {
		return Report{}, err
	}
	from := time.Now()
	var moved, ideal int
	switch name {
	case "split":
		r.progress("observing the steady split for %s", o.Observe)
		if err := sleepCtx(ctx, o.Observe); err != nil {
			return Report{}, err
		}
	case "crash", standbyName:
		if err := sleepCtx(ctx, o.Observe/2); err != nil {
			return Report{}, err
		}
		victim := r.Fleet.Running()[len(r.Fleet.Running())-1]
		r.progress("kill -9 %s", victim.Name)
		_ = victim.Kill()
		if err := converge("without " + victim.Name); err != nil {
			return Report{}, err
		}
		if err := sleepCtx(ctx, o.Observe/2); err != nil {
			return Report{}, err
		}
	case "rolling":
		for _, n := range r.Fleet.Nodes() {
			r.progress("restarting %s", n.Name)
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := n.Restart(sctx)
			if err == nil {
				err = n.WaitReady(sctx)
			}
			cancel()
			if err != nil {
				return Report{}, err
			}
			if err := converge("after restarting " + n.Name); err != nil {
				return Report{}, err
			}
		}
		if err := sleepCtx(ctx, o.Observe/2); err != nil {
			return Report{}, err
		}
	case "scaleup", "scaledown":
		before := r.CurrentOwners(ctx)
		if name == "scaleup" {
			r.progress("adding a node")
			n, err := r.Fleet.Add(ctx)
			if err != nil {
				return Report{}, err
			}
			wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			err = n.WaitReady(wctx)
			cancel()
			if err != nil {
				return Report{}, err
			}
		} else {
			victim := r.Fleet.Running()[len(r.Fleet.Running())-1]
			r.progress("stopping %s (SIGTERM)", victim.Name)
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := victim.Stop(sctx)
			cancel()
			if err != nil {
				return Report{}, err
			}
		}
		if err := converge("after scaling"); err != nil {
			return Report{}, err
		}
		after := r.CurrentOwners(ctx)
		moved = movedTargets(before, after)
		ideal = leastMoves(before, after)
		if err := sleepCtx(ctx, o.Observe/2); err != nil {
			return Report{}, err
		}
	case "weighted":
		if err := r.runWeighted(ctx, converge, &moved, &ideal); err != nil {
			return Report{}, err
		}
	case "partition":
		nodes := r.Fleet.Running()
		alone, rest := []string{nodes[0].Name}, []string{}
		for _, n := range nodes[1:] {
			rest = append(rest, n.Name)
		}
		r.progress("partitioning %v from %v", alone, rest)
		if err := r.Network.Partition(alone, rest); err != nil {
			return Report{}, err
		}
		if err := sleepCtx(ctx, o.Observe); err != nil {
			return Report{}, err
		}
		r.progress("healing the partition")
		if err := r.Network.Heal(); err != nil {
			return Report{}, err
		}
		if err := converge("after healing"); err != nil {
			return Report{}, err
		}
		if err := sleepCtx(ctx, o.Observe/2); err != nil {
			return Report{}, err
		}
	}
	to := time.Now()
	r.progress("waiting for delivery up to %s", to.Format("15:04:05.000"))
	r.WaitDelivered(ctx, to)
	rep := r.Report(ctx, name, from, to)
	rep.Moved, rep.IdealMoved = moved, ideal
	if name == "weighted" {
		rep.Series = r.series
		rep.Series.End, rep.Series.Nodes = r.SeriesBalance(r.CurrentOwners(ctx))
		rep.Notes = append(rep.Notes, fmt.Sprintf("an even split of targets would move about %d targets on this join (%d targets / %d nodes)",
			r.Opts.Targets/len(r.Fleet.Running()), r.Opts.Targets, len(r.Fleet.Running())))
	}
	if isCrash(name) || o.Replicas >= 2 {
		rx := r.ReceiverFigures(ctx, rep)
		rep.Receiver = &rx
	}
	return rep, nil
}

// leastMoves is the number of targets that must move when nodes join or
// leave: those the joiners own afterwards and those the leavers owned.
func leastMoves(before, after map[string][]string) int {
	n := 0
	for node, ts := range after {
		if _, ok := before[node]; !ok {
			n += len(ts)
		}
	}
	for node, ts := range before {
		if _, ok := after[node]; !ok {
			n += len(ts)
		}
	}
	return n
}

// invert turns node → targets into target → node.
func invert(owners map[string][]string) map[string]string {
	out := map[string]string{}
	for node, ts := range owners {
		for _, a := range ts {
			out[a] = node
		}
	}
	return out
}

// movedTargets counts the targets whose owner changed between two
// snapshots, every target of a node that left included.
func movedTargets(before, after map[string][]string) int {
	a := invert(after)
	n := 0
	for node, ts := range before {
		for _, t := range ts {
			if a[t] != node {
				n++
			}
		}
	}
	return n
}

// SeriesFigures are the weighted scenario's measures of balance in
// series (largest node ÷ mean).
type SeriesFigures struct {
	// Start is the split when the window opened; PlansAtStart the plans
	// the fleet had made by then (0: Start is the unweighted split).
	Start        float64
	PlansAtStart int
	// Balanced is the split once the plan settled, before the join;
	// Joined after the join's plan; End when the window closed.
	Balanced, Joined, End float64
	// Nodes is the series per node at the end.
	Nodes map[string]int
	// Reached is false when a split did not come within 1.1 in time.
	Reached bool
}

// SeriesBalance returns the largest node's series over the mean, over
// the running nodes, and the series per node.
func (r *Rig) SeriesBalance(owners map[string][]string) (float64, map[string]int) {
	per := map[string]int{}
	for _, n := range r.Fleet.Running() {
		per[n.Name] = 0
	}
	if r.seriesOf == nil {
		r.seriesOf = map[string]int{}
		for _, a := range r.Targets.Addrs() {
			r.seriesOf[a] = r.Targets.SeriesOf(a)
		}
	}
	for node, ts := range owners {
		if _, ok := per[node]; !ok {
			continue
		}
		for _, a := range ts {
			per[node] += r.seriesOf[a]
		}
	}
	return Balance(per), per
}

// plans is the number of placement plans the running nodes have made.
func (r *Rig) plans(ctx context.Context) int {
	total := 0.0
	for _, n := range r.Fleet.Running() {
		if v, found, err := n.Metric(ctx, "shoal_cluster_placement_plans_total"); err == nil && found {
			total += v
		}
	}
	return int(total)
}

// runWeighted is the weighted scenario inside the window: the fleet
// places by series; it waits for the plan to balance the series, adds a
// node, and waits for the plan that follows. Every handoff, the plans'
// included, lies within the window, so its figures count the ticks
// missed and doubled across the re-balance.
func (r *Rig) runWeighted(ctx context.Context, converge func(string) error, moved, ideal *int) error {
	const goal = 1.1
	r.series.Start, _ = r.SeriesBalance(r.CurrentOwners(ctx))
	r.series.PlansAtStart = r.plans(ctx)
	r.progress("series balance at the window's start %.3f (%d plans made)", r.series.Start, r.series.PlansAtStart)
	balanced := func(what string, into *float64) bool {
		wctx, cancel := context.WithTimeout(ctx, 3*r.Opts.PlanInterval+30*time.Second)
		defer cancel()
		err := WaitFor(wctx, func() bool {
			*into, _ = r.SeriesBalance(r.CurrentOwners(wctx))
			return *into <= goal
		})
		r.progress("series balance %s %.3f", what, *into)
		return err == nil
	}
	ok := balanced("once planned", &r.series.Balanced)
	if err := sleepCtx(ctx, r.Opts.HandoffDelay+2*r.Opts.Interval); err != nil {
		return err
	}
	before := r.CurrentOwners(ctx)
	r.progress("adding a node")
	n, err := r.Fleet.Add(ctx)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err = n.WaitReady(wctx)
	cancel()
	if err != nil {
		return err
	}
	if err := converge("after the join"); err != nil {
		return err
	}
	ok = balanced("after the join", &r.series.Joined) && ok
	if err := converge("after the join's plan"); err != nil {
		return err
	}
	after := r.CurrentOwners(ctx)
	*moved, *ideal = movedTargets(before, after), leastMoves(before, after)
	r.series.Reached = ok
	return sleepCtx(ctx, r.Opts.Observe/2)
}
