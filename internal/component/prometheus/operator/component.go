package operator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promk8s "github.com/prometheus/prometheus/discovery/kubernetes"
	"github.com/prometheus/prometheus/model/labels"
	promrelabel "github.com/prometheus/prometheus/model/relabel"
	"gopkg.in/yaml.v3"
	corev1api "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	promscrape "github.com/shoal-dev/shoal/internal/component/prometheus/scrape"
	"github.com/shoal-dev/shoal/internal/sample"
	engine "github.com/shoal-dev/shoal/internal/scrape"
)

// Kind is the kind of resource a component watches.
type Kind string

// The kinds, named as Alloy names them in its logs and job names.
const (
	KindServiceMonitor Kind = "serviceMonitor"
	KindPodMonitor     Kind = "podMonitor"
	KindProbe          Kind = "probe"
	KindScrapeConfig   Kind = "scrapeConfig"
)

func (k Kind) resource() schema.GroupVersionResource {
	switch k {
	case KindPodMonitor:
		return monitoringv1.SchemeGroupVersion.WithResource(monitoringv1.PodMonitorName)
	case KindProbe:
		return monitoringv1.SchemeGroupVersion.WithResource(monitoringv1.ProbeName)
	case KindScrapeConfig:
		return schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1alpha1", Resource: "scrapeconfigs"}
	}
	return monitoringv1.SchemeGroupVersion.WithResource(monitoringv1.ServiceMonitorName)
}

// wakeQuantum is prometheus.scrape's: ticks within 50 ms start together.
const wakeQuantum = 50 * time.Millisecond

// resync regenerates every resource's jobs, so that a changed Secret is
// picked up, as Alloy does every 5 minutes.
const resync = 5 * time.Minute

// sdMechanism is discovery.kubernetes's: informers stream updates and never
// mark the end of the initial list.
var sdMechanism = discovery.Mechanism{
	FailureMetrics: []string{"prometheus_sd_kubernetes_failures_total"},
	SettleQuiet:    500 * time.Millisecond,
	SettleTimeout:  5 * time.Second,
	PollInterval:   time.Second,
}

// Component is a running prometheus.operator.* component.
type Component struct {
	opts component.Options
	kind Kind

	mu         sync.Mutex
	args       Arguments
	allowFiles bool
	receiver   sample.Receiver
	restart    chan struct{}
	dirty      chan struct{}
	synced     bool
	syncErr    string
	crds       map[string]*crdState // by namespace/name
	sds        map[string]*sdState  // by discovery config
	jobs       map[string]*jobRunner
	clustered  bool
	runCtx     context.Context
	// gen counts watch sessions: resources not seen again by a new
	// session's initial list are dropped once it has synced.
	gen int

	ready atomic.Bool
}

type crdState struct {
	// gen is the watch session that last saw the resource.
	gen             int
	namespace, name string
	jobs            []Job
	err             error
	reconciled      time.Time
}

type sdState struct {
	comp    *discovery.Component
	cancel  context.CancelFunc
	targets []discovery.Target
}

type jobRunner struct {
	job    Job
	sdKey  string
	engine *engine.Engine
	cancel context.CancelFunc
	// retired is set while a removed job's targets write their staleness
	// markers; the engine stops when it fires.
	retired *time.Timer
}

var (
	_ component.Component       = (*Component)(nil)
	_ component.HealthComponent = (*Component)(nil)
	_ component.DebugComponent  = (*Component)(nil)
	_ component.ReadyComponent  = (*Component)(nil)
	_ component.TargetLister    = (*Component)(nil)
)

// New builds a component watching kind.
func New(opts component.Options, kind Kind, args Arguments, allowFiles bool) (*Component, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Cluster == nil {
		opts.Cluster = component.Alone{}
	}
	c := &Component{
		opts:    opts,
		kind:    kind,
		restart: make(chan struct{}, 1),
		dirty:   make(chan struct{}, 1),
		crds:    map[string]*crdState{},
		sds:     map[string]*sdState{},
		jobs:    map[string]*jobRunner{},
	}
	if err := c.update(args, allowFiles); err != nil {
		return nil, err
	}
	return c, nil
}

// Update applies new arguments. A change of forward_to alone takes effect
// at the next batch; any other change restarts the watch, and the jobs are
// generated again.
func (c *Component) Update(args component.Arguments) error {
	switch a := args.(type) {
	case Arguments:
		return c.update(a, false)
	case ServiceMonitorArguments:
		return c.update(a.Arguments, a.AllowArbitraryFileAccess)
	}
	return fmt.Errorf("unexpected arguments %T", args)
}

func (c *Component) update(a Arguments, allowFiles bool) error {
	if err := a.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.receiver = c.opts.LiveDebug.Receiver(sample.Fanout(a.ForwardTo))
	for _, j := range c.jobs {
		j.engine.SetReceiver(c.receiver)
	}
	old := c.args
	old.ForwardTo = a.ForwardTo
	first := c.args.InformerSyncTimeout == 0
	same := reflect.DeepEqual(old, a) && c.allowFiles == allowFiles
	c.args, c.allowFiles = a, allowFiles
	if !first && !same {
		select {
		case c.restart <- struct{}{}:
		default:
		}
	}
	return nil
}

func (c *Component) markDirty() {
	select {
	case c.dirty <- struct{}{}:
	default:
	}
}

// Run watches the resources and scrapes their targets until ctx is
// cancelled.
func (c *Component) Run(ctx context.Context) error {
	c.mu.Lock()
	c.runCtx = ctx
	c.mu.Unlock()
	defer c.stopAll()
	for {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.session(sctx)
		}()
		select {
		case <-ctx.Done():
			cancel()
			<-done
			return nil
		case <-c.restart:
			cancel()
			<-done
			c.opts.Logger.Info("arguments changed; watching again")
		}
	}
}

// stopAll stops every discovery and engine and withdraws the targets.
func (c *Component) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.sds {
		s.cancel()
		delete(c.sds, k)
	}
	for n, j := range c.jobs {
		if j.retired != nil {
			j.retired.Stop()
		}
		j.cancel()
		delete(c.jobs, n)
	}
	clear(c.crds)
	if c.clustered {
		c.opts.Cluster.SetTargets(c.opts.ID, nil)
		c.clustered = false
	}
	c.synced = false
	c.ready.Store(false)
}

// event is an informer notification: a resource, or its deletion.
type event struct {
	obj     *unstructured.Unstructured
	deleted bool
	// sweep, when set, drops the resources that session sweep has not seen.
	sweep int
}

// session watches with the current arguments until ctx ends.
func (c *Component) session(ctx context.Context) {
	c.mu.Lock()
	a, allowFiles := c.args, c.allowFiles
	c.gen++
	gen := c.gen
	c.mu.Unlock()
	fail := func(err error) {
		c.mu.Lock()
		c.syncErr = err.Error()
		c.mu.Unlock()
		c.opts.Logger.Error("cannot watch resources", "err", err)
		<-ctx.Done()
	}
	cfg, err := a.Client.RESTConfig()
	if err != nil {
		fail(fmt.Errorf("client: %w", err))
		return
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		fail(fmt.Errorf("creating kubernetes client: %w", err))
		return
	}
	core, err := corev1.NewForConfig(cfg)
	if err != nil {
		fail(fmt.Errorf("creating kubernetes client: %w", err))
		return
	}
	sel, _ := a.Selector.Selector()
	rules, _ := relabel.Rules(a.Rules).Prometheus()
	g := &Generator{
		Secrets:                  secretGetter{core},
		Rules:                    rules,
		Scrape:                   a.Scrape,
		Role:                     a.KubernetesRole,
		AllowArbitraryFileAccess: allowFiles,
		Clustering:               a.Clustering,
	}
	g.Client.KubeConfig = a.Client.KubeConfig
	if a.Client.APIServer != "" {
		hc, err := a.Client.HTTPClientConfig.Prometheus()
		if err != nil {
			fail(err)
			return
		}
		u, _ := parseURL(a.Client.APIServer)
		g.Client.APIServer, g.Client.HTTP = u, hc
	}

	var (
		qmu   sync.Mutex
		queue []event
		wake  = make(chan struct{}, 1)
	)
	push := func(e event) {
		qmu.Lock()
		queue = append(queue, e)
		qmu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { push(event{obj: asUnstructured(o)}) },
		UpdateFunc: func(_, o any) { push(event{obj: asUnstructured(o)}) },
		DeleteFunc: func(o any) {
			if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			push(event{obj: asUnstructured(o), deleted: true})
		},
	}
	namespaces := a.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	var synced []cache.InformerSynced
	for _, ns := range namespaces {
		f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, resync, ns, func(o *metav1.ListOptions) {
			o.LabelSelector = sel.String()
		})
		inf := f.ForResource(c.kind.resource()).Informer()
		if _, err := inf.AddEventHandler(handler); err != nil {
			fail(err)
			return
		}
		f.Start(ctx.Done())
		synced = append(synced, inf.HasSynced)
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		tctx, cancel := context.WithTimeout(ctx, a.InformerSyncTimeout)
		defer cancel()
		ok := cache.WaitForCacheSync(tctx.Done(), synced...)
		c.mu.Lock()
		if !ok && ctx.Err() == nil {
			c.syncErr = fmt.Sprintf("the %s informers did not sync within %s: check the connection to the API server and the RBAC permissions", c.kind, a.InformerSyncTimeout)
			c.opts.Logger.Warn(c.syncErr)
		}
		c.mu.Unlock()
		if !ok {
			// Keep waiting: the informers retry on their own.
			ok = cache.WaitForCacheSync(ctx.Done(), synced...)
		}
		if ok {
			// The initial list has been queued; once it is handled, the
			// resources of an earlier session that it did not list are
			// gone.
			push(event{sweep: gen})
			c.mu.Lock()
			c.synced, c.syncErr = true, ""
			c.mu.Unlock()
			c.markDirty()
		}
	})

	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			qmu.Lock()
			evs := queue
			queue = nil
			qmu.Unlock()
			for _, e := range evs {
				c.handle(ctx, g, e)
			}
			c.sync()
		case <-c.dirty:
			c.sync()
		}
	}
}

func asUnstructured(o any) *unstructured.Unstructured {
	u, _ := o.(*unstructured.Unstructured)
	return u
}

// handle regenerates the jobs of one resource.
func (c *Component) handle(ctx context.Context, gen *Generator, e event) {
	if e.sweep > 0 {
		c.mu.Lock()
		for k, st := range c.crds {
			if st.gen < e.sweep {
				delete(c.crds, k)
			}
		}
		c.mu.Unlock()
		return
	}
	if e.obj == nil {
		return
	}
	key := e.obj.GetNamespace() + "/" + e.obj.GetName()
	if e.deleted {
		c.mu.Lock()
		delete(c.crds, key)
		c.mu.Unlock()
		c.opts.Logger.Info("resource deleted", "kind", c.kind, "name", key)
		return
	}
	jobs, err := c.generate(ctx, gen, e.obj)
	if err != nil {
		c.opts.Logger.Error("cannot generate scrape jobs", "kind", c.kind, "name", key, "err", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &crdState{gen: c.gen, namespace: e.obj.GetNamespace(), name: e.obj.GetName(), err: err, reconciled: time.Now()}
	if err != nil {
		// Keep the jobs of the last good version, as a Prometheus server
		// keeps its configuration when a reload fails.
		if old := c.crds[key]; old != nil {
			st.jobs = old.jobs
		}
	} else {
		st.jobs = jobs
	}
	c.crds[key] = st
}

func (c *Component) generate(ctx context.Context, gen *Generator, u *unstructured.Unstructured) ([]Job, error) {
	gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch c.kind {
	case KindServiceMonitor:
		var m monitoringv1.ServiceMonitor
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &m); err != nil {
			return nil, err
		}
		return gen.ServiceMonitor(gctx, &m)
	case KindPodMonitor:
		var m monitoringv1.PodMonitor
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &m); err != nil {
			return nil, err
		}
		return gen.PodMonitor(gctx, &m)
	case KindProbe:
		var m monitoringv1.Probe
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &m); err != nil {
			return nil, err
		}
		return gen.Probe(gctx, &m)
	case KindScrapeConfig:
		var m monitoringv1alpha1.ScrapeConfig
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &m); err != nil {
			return nil, err
		}
		return gen.ScrapeConfig(gctx, &m)
	}
	return nil, fmt.Errorf("kind %s is not supported", c.kind)
}

// sdKey identifies a discovery config, so that jobs with the same one
// (every ServiceMonitor of a namespace, say) share one discoverer.
func sdKey(sd *promk8s.SDConfig) string {
	b, err := yaml.Marshal(sd)
	if err != nil {
		b = fmt.Appendf(nil, "%#v", sd)
	}
	// The HTTP client's secrets marshal as <secret>: tell configs with
	// different credentials apart all the same.
	b = fmt.Appendf(b, "%s|%s|%s", sd.HTTPClientConfig.BearerToken, sd.HTTPClientConfig.TLSConfig.Key, sd.KubeConfig)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// sync brings the discoveries and engines in line with the resources and
// pushes every job's targets to its engine.
func (c *Component) sync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := c.runCtx
	if ctx == nil || ctx.Err() != nil {
		return
	}
	want := map[string]Job{}
	for _, st := range c.crds {
		for _, j := range st.jobs {
			want[j.Name] = j
		}
	}
	// Discoveries.
	used := map[string]bool{}
	for name, j := range want {
		if j.SD == nil {
			continue
		}
		k := sdKey(j.SD)
		used[k] = true
		if _, ok := c.sds[k]; !ok {
			if err := c.startSD(ctx, k, j.SD); err != nil {
				c.opts.Logger.Error("cannot start discovery", "job", name, "err", err)
				delete(want, name)
			}
		}
	}
	for k, s := range c.sds {
		if !used[k] {
			s.cancel()
			delete(c.sds, k)
		}
	}
	// Engines.
	for name, j := range want {
		var k string
		if j.SD != nil {
			k = sdKey(j.SD)
		}
		r, ok := c.jobs[name]
		if !ok {
			r = c.startJob(ctx, j)
		}
		if r.retired != nil {
			r.retired.Stop()
			r.retired = nil
		}
		r.job, r.sdKey = j, k
		var targets []labels.Labels
		if j.SD == nil {
			targets = relabelTargets(j.Static, &j)
		} else if s := c.sds[k]; s != nil {
			targets = relabelTargets(s.targets, &j)
		}
		if err := r.engine.SetTargets(targets, j.Scrape); err != nil {
			c.opts.Logger.Error("cannot scrape job", "job", name, "err", err)
		}
	}
	for name, r := range c.jobs {
		if _, ok := want[name]; ok || r.retired != nil {
			continue
		}
		// Staleness markers at the next tick, then stop.
		_ = r.engine.SetTargets(nil, r.job.Scrape)
		wait := 2*r.job.Scrape.Interval + 5*time.Second
		r.retired = time.AfterFunc(wait, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.jobs[name] == r && r.retired != nil {
				r.cancel()
				delete(c.jobs, name)
			}
		})
	}
	// Cluster.
	clustered := c.args.Clustering.Enabled
	if clustered {
		var keys []uint64
		for _, r := range c.jobs {
			if r.retired == nil {
				keys = append(keys, r.engine.Keys()...)
			}
		}
		slices.Sort(keys)
		c.opts.Cluster.SetTargets(c.opts.ID, slices.Compact(keys))
	} else if c.clustered {
		c.opts.Cluster.SetTargets(c.opts.ID, nil)
	}
	c.clustered = clustered
	c.updateReady()
}

// updateReady: ready once the informers synced and every discovery has
// finished its first refresh. c.mu is held.
func (c *Component) updateReady() {
	if c.ready.Load() || !c.synced {
		return
	}
	for _, s := range c.sds {
		if !s.comp.Ready() {
			return
		}
	}
	c.ready.Store(true)
}

// startSD starts a shared discoverer. c.mu is held.
func (c *Component) startSD(ctx context.Context, k string, sd *promk8s.SDConfig) error {
	st := &sdState{}
	opts := component.Options{
		ID:     c.opts.ID + "/sd/" + k,
		Logger: c.opts.Logger.With("discovery", k),
		// A registry of its own: the shared discoverers would clash in
		// the component's, and their metrics are read by the discovery
		// package's probe, not by users.
		Registerer: prometheus.NewRegistry(),
		OnStateChange: func(e component.Exports) {
			ex, ok := e.(discovery.Exports)
			if !ok {
				return
			}
			c.mu.Lock()
			st.targets = ex.Targets
			c.mu.Unlock()
			c.markDirty()
		},
		Cluster: component.Alone{},
	}
	conv := func(component.Arguments) (promdiscovery.Config, error) { return sd, nil }
	comp, err := discovery.New(opts, sd, conv, sdMechanism)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	st.comp, st.cancel = comp, cancel
	c.sds[k] = st
	go func() {
		_ = comp.Run(sctx)
	}()
	// Readiness is polled: a discovery that finds nothing never calls back.
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for !comp.Ready() {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
		}
		c.markDirty()
	}()
	return nil
}

// startJob starts an engine for a job. c.mu is held.
func (c *Component) startJob(ctx context.Context, j Job) *jobRunner {
	e := engine.New(engine.Options{
		Logger:      c.opts.Logger.With("job", j.Name),
		Cluster:     c.opts.Cluster,
		WakeQuantum: wakeQuantum,
	})
	e.SetReceiver(c.receiver)
	jctx, cancel := context.WithCancel(ctx)
	r := &jobRunner{job: j, engine: e, cancel: cancel}
	c.jobs[j.Name] = r
	go func() { _ = e.Run(jctx) }()
	return r
}

// relabelTargets gives discovered targets the job's defaults and applies
// its relabeling, as Prometheus does before scraping: job, the scrape
// interval and timeout, the metrics path, the scheme and the parameters
// are set where the target does not set them; dropped targets and targets
// left without an address are left out.
func relabelTargets(ts []discovery.Target, j *Job) []labels.Labels {
	out := make([]labels.Labels, 0, len(ts))
	cfg := &j.Scrape
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, t := range ts {
		lb.Reset(t.Labels())
		def := func(name, value string) {
			if lb.Get(name) == "" {
				lb.Set(name, value)
			}
		}
		def(model.JobLabel, j.Name)
		def(model.ScrapeIntervalLabel, model.Duration(cfg.Interval).String())
		def(model.ScrapeTimeoutLabel, model.Duration(cfg.Timeout).String())
		def(model.MetricsPathLabel, cfg.MetricsPath)
		def(model.SchemeLabel, cfg.Scheme)
		for k, v := range cfg.Params {
			if len(v) > 0 {
				def(model.ParamLabelPrefix+k, v[0])
			}
		}
		if !promrelabel.ProcessBuilder(lb, j.Relabel...) {
			continue
		}
		if lb.Get(model.AddressLabel) == "" {
			continue
		}
		lb.Range(func(l labels.Label) {
			if strings.HasPrefix(l.Name, model.MetaLabelPrefix) {
				lb.Del(l.Name)
			}
		})
		out = append(out, lb.Labels())
	}
	return out
}

// Ready reports whether the informers synced and every discovery finished
// its first refresh, so that the node may take part in the cluster.
func (c *Component) Ready() bool { return c.ready.Load() }

// CurrentHealth is unhealthy while the API server cannot be watched or a
// resource cannot be turned into jobs.
func (c *Component) CurrentHealth() component.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.syncErr != "" {
		return component.Health{State: component.HealthUnhealthy, Message: c.syncErr, Updated: time.Now()}
	}
	var bad []string
	for k, st := range c.crds {
		if st.err != nil {
			bad = append(bad, k+": "+st.err.Error())
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return component.Health{State: component.HealthUnhealthy, Message: fmt.Sprintf("%d resources cannot be scraped: %s", len(bad), bad[0]), Updated: time.Now()}
	}
	if !c.synced {
		return component.Health{State: component.HealthUnknown, Message: "waiting for the informers to sync"}
	}
	return component.Health{State: component.HealthHealthy, Message: "resources are scraped"}
}

// DebugInfo is Alloy's: the resources found, then the targets this node
// scrapes.
type DebugInfo struct {
	CRDs    []CRDInfo               `alloy:"crds,block"`
	Targets []promscrape.TargetInfo `alloy:"targets,block,optional"`
}

// CRDInfo is one resource in the debug info.
type CRDInfo struct {
	Namespace      string    `alloy:"namespace,attr"`
	Name           string    `alloy:"name,attr"`
	LastReconcile  time.Time `alloy:"last_reconcile,attr,optional"`
	ReconcileError string    `alloy:"reconcile_error,attr,optional"`
	Jobs           []string  `alloy:"jobs,attr,optional"`
}

// DebugInfo lists the resources and the owned targets.
func (c *Component) DebugInfo() any {
	c.mu.Lock()
	var info DebugInfo
	for _, st := range c.crds {
		ci := CRDInfo{Namespace: st.namespace, Name: st.name, LastReconcile: st.reconciled}
		if st.err != nil {
			ci.ReconcileError = st.err.Error()
		}
		for _, j := range st.jobs {
			ci.Jobs = append(ci.Jobs, j.Name)
		}
		info.CRDs = append(info.CRDs, ci)
	}
	engines := c.engines()
	c.mu.Unlock()
	sort.Slice(info.CRDs, func(i, j int) bool {
		return info.CRDs[i].Namespace+"/"+info.CRDs[i].Name < info.CRDs[j].Namespace+"/"+info.CRDs[j].Name
	})
	for _, e := range engines {
		for _, st := range e.Targets() {
			if !st.Owned {
				continue
			}
			m := make(map[string]string, st.Labels.Len())
			st.Labels.Range(func(l labels.Label) { m[l.Name] = l.Value })
			info.Targets = append(info.Targets, promscrape.TargetInfo{
				Job: st.Job, URL: st.URL, Health: string(st.Health), Labels: m, LastError: st.LastError,
				LastScrape: st.LastScrape, LastScrapeDuration: st.LastScrapeDuration,
				Key: fmt.Sprintf("%016x", st.Key), Owned: st.Owned, KeyCollision: st.Collision,
			})
		}
	}
	return info
}

// engines lists the engines of current jobs, by job name. c.mu is held.
func (c *Component) engines() []*engine.Engine {
	names := make([]string, 0, len(c.jobs))
	for n, r := range c.jobs {
		if r.retired == nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]*engine.Engine, len(names))
	for i, n := range names {
		out[i] = c.jobs[n].engine
	}
	return out
}

// Clustered reports whether the targets are split across the fleet.
func (c *Component) Clustered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.args.Clustering.Enabled && c.opts.Cluster.Enabled()
}

// ClusterTargets lists every target of every job, owned here or not.
func (c *Component) ClusterTargets() []component.Target {
	c.mu.Lock()
	engines := c.engines()
	c.mu.Unlock()
	var out []component.Target
	for _, e := range engines {
		for _, st := range e.Targets() {
			m := make(map[string]string, st.Labels.Len())
			st.Labels.Range(func(l labels.Label) { m[l.Name] = l.Value })
			out = append(out, component.Target{Key: st.Key, URL: st.URL, Labels: m})
		}
	}
	return out
}

// secretGetter reads Secrets and ConfigMaps with the core/v1 client.
type secretGetter struct{ cs *corev1.CoreV1Client }

func (s secretGetter) Secret(ctx context.Context, ns string, sel corev1api.SecretKeySelector) (string, error) {
	sec, err := s.cs.Secrets(ns).Get(ctx, sel.Name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	v, ok := sec.Data[sel.Key]
	if !ok {
		return "", fmt.Errorf("key %q not found in Secret %s/%s", sel.Key, ns, sel.Name)
	}
	return string(v), nil
}

func (s secretGetter) ConfigMap(ctx context.Context, ns string, sel corev1api.ConfigMapKeySelector) (string, error) {
	cm, err := s.cs.ConfigMaps(ns).Get(ctx, sel.Name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	v, ok := cm.Data[sel.Key]
	if !ok {
		return "", fmt.Errorf("key %q not found in ConfigMap %s/%s", sel.Key, ns, sel.Name)
	}
	return v, nil
}
