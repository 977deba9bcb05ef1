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
// The language itself (scanning, parsing, decoding into Go structs) belongs
// to internal/syntax; what each component does belongs to its own package
// under internal/component; serving the answers over HTTP belongs to
// internal/web.
package runtime
