package runtime

import (
	"context"
	"regexp"
	"sync"
	"testing"

	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// liveReceiver stands for a running component behind a capsule: its state
// changes under a lock the comparison must not touch.
type liveReceiver struct {
	mu sync.Mutex
	n  int
}

func (r *liveReceiver) Receive(context.Context, *sample.Batch) error {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
	return nil
}

type argsWithEverything struct {
	Targets   []map[string]string
	Forward   []sample.Receiver
	Inner     *innerArgs
	Password  types.Secret
	Regex     *regexp.Regexp
	Transform func(string) string
}

func TestEqualComparesDataByValueAndCapsulesByIdentity(t *testing.T) {
	r1, r2 := &liveReceiver{}, &liveReceiver{}
	mk := func(recv sample.Receiver, size int) argsWithEverything {
		return argsWithEverything{
			Targets:  []map[string]string{{"__address__": "a:1"}},
			Forward:  []sample.Receiver{recv},
			Inner:    &innerArgs{Size: size},
			Password: "p",
			Regex:    regexp.MustCompile("a.*"),
		}
	}
	if !equal(mk(r1, 1), mk(r1, 1)) {
		t.Error("equal arguments built twice compare different")
	}
	if equal(mk(r1, 1), mk(r2, 1)) {
		t.Error("two distinct receivers with equal state compare equal")
	}
	if equal(mk(r1, 1), mk(r1, 2)) {
		t.Error("different nested blocks compare equal")
	}
	withFunc := mk(r1, 1)
	withFunc.Transform = func(s string) string { return s }
	if equal(withFunc, withFunc) {
		t.Error("non-nil functions compare equal")
	}
	if !equal(nil, nil) || equal(nil, mk(r1, 1)) {
		t.Error("nil handling")
	}
	if equal(nodeExports{Output: 1}, nodeArgs{Input: 1}) {
		t.Error("values of different types compare equal")
	}
}

func TestEqualDoesNotTouchLiveReceivers(t *testing.T) {
	r1, r2 := &liveReceiver{}, &liveReceiver{}
	a := []sample.Receiver{r1}
	b := []sample.Receiver{r2}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 1000 {
			r1.Receive(context.Background(), nil)
			r2.Receive(context.Background(), nil)
		}
	}()
	for range 1000 {
		equal(a, b) // the race detector fails this if it reads r.n
	}
	wg.Wait()
}
