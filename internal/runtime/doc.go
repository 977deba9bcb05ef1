// Package runtime loads a configuration file into a graph of running
// components. It validates a config against the component registry (unknown
// components, labels, references, cycles, argument types), builds the
// dependency graph from the references between blocks, evaluates each
// block's arguments in topological order, and keeps the graph up to date:
// a component that publishes new exports causes only the components that
// reference it to be re-evaluated, and a reload updates changed components
// in place, stops removed ones and starts new ones, leaving unchanged ones
// untouched. It merges each component's own health with the health of its
// evaluation, and answers the introspection questions of the web UI and the
// cluster (components, readiness, config fingerprint, global blocks).
//
// It also runs Alloy's custom components: declare blocks with their
// argument and export blocks, and the modules of import blocks. An
// instance of a declared component is a node of its parent's graph whose
// body is a graph of its own, run by a nested controller; its components
// have global IDs such as "name.label/prometheus.scrape.x". Fetching the
// text of imported modules belongs to internal/importsource.
//
// The language itself (scanning, parsing, decoding into Go structs) belongs
// to internal/syntax; what each component does belongs to its own package
// under internal/component; serving the answers over HTTP belongs to
// internal/web.
package runtime
