package runtime

import (
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// nodeKind is what a node of a graph runs.
type nodeKind int

const (
	kindBuiltin  nodeKind = iota // a component of the registry
	kindCustom                   // an instance of a declare: a nested graph
	kindArgument                 // an argument block of a declare body
	kindExport                   // an export block of a declare body
	kindImport                   // an import.* block
)

// node is one block of a loaded graph. A node outlives reloads for as long
// as its ID stays in the config, so that an unchanged component keeps its
// instance.
type node struct {
	id    string // local to its graph: "prometheus.scrape.default"
	name  string
	label string
	kind  nodeKind
	reg   component.Registration
	ctl   *controller // the graph the node belongs to; nil for a nested import

	// Guarded by Runtime.mu.
	globalID     string // "custom.label/prometheus.scrape.default"
	custom       *customState
	imp          *importState
	plan         *planBlock
	value        value.Value // of an argument or export block
	block        *ast.BlockStmt
	pos          token.Position
	refsTo       []string
	refBy        []string
	args         component.Arguments // the last arguments the component accepted
	comp         component.Component // nil until built
	evalHealth   component.Health
	scopeExports component.Exports // exports as dependants last saw them
	metrics      *trackingRegisterer
	cancel       context.CancelFunc // nil until started
	done         chan struct{}      // closed when Run returned

	// mu guards what the component's own goroutines write.
	mu        sync.Mutex
	exports   component.Exports
	runHealth component.Health
}

// setExports is the component's OnStateChange.
func (n *node) setExports(e component.Exports) {
	n.mu.Lock()
	n.exports = e
	n.mu.Unlock()
}

func (n *node) latestExports() component.Exports {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exports
}

func (n *node) setRunHealth(h component.Health) {
	n.mu.Lock()
	n.runHealth = h
	n.mu.Unlock()
}

// trackingRegisterer registers a component's metrics with its component_id
// label and remembers them, so that they can be unregistered when the
// component is removed and a later component of the same ID can register
// them again.
type trackingRegisterer struct {
	inner prometheus.Registerer

	mu         sync.Mutex
	collectors []prometheus.Collector
}

func newTrackingRegisterer(parent prometheus.Registerer, id string) *trackingRegisterer {
	return &trackingRegisterer{inner: prometheus.WrapRegistererWith(prometheus.Labels{"component_id": id}, parent)}
}

func (t *trackingRegisterer) Register(c prometheus.Collector) error {
	if err := t.inner.Register(c); err != nil {
		return err
	}
	t.mu.Lock()
	t.collectors = append(t.collectors, c)
	t.mu.Unlock()
	return nil
}

func (t *trackingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

func (t *trackingRegisterer) Unregister(c prometheus.Collector) bool {
	t.mu.Lock()
	for i, have := range t.collectors {
		if sameCollector(have, c) {
			t.collectors = append(t.collectors[:i], t.collectors[i+1:]...)
			break
		}
	}
	t.mu.Unlock()
	return t.inner.Unregister(c)
}

func (t *trackingRegisterer) unregisterAll() {
	t.mu.Lock()
	cs := t.collectors
	t.collectors = nil
	t.mu.Unlock()
	for _, c := range cs {
		t.inner.Unregister(c)
	}
}

// sameCollector compares collectors by identity, without panicking on a
// collector type that is not comparable.
func sameCollector(a, b prometheus.Collector) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}

var _ prometheus.Registerer = (*trackingRegisterer)(nil)

// now is the clock of health updates.
func now() time.Time { return time.Now() }
