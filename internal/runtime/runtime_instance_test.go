package runtime

import "testing"

// ComponentInfo carries the running instance, which the agent needs for the
// cluster-wide target list (component.TargetLister).
func TestComponentInfoCarriesTheRunningInstance(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, `test.node "a" { input = 1 }`)
	info, ok := rt.Component("test.node.a")
	if !ok {
		t.Fatal("component test.node.a not found")
	}
	if info.Instance == nil {
		t.Fatal("ComponentInfo.Instance is nil for a built component")
	}
}
