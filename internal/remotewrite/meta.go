package remotewrite

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"

	"github.com/shoal-dev/shoal/internal/sample"
)

// metaStore holds the metric metadata (HELP, TYPE, UNIT by family) that
// batches brought: producers send a family's metadata when it changes, so
// the store is written rarely. It is kept in memory only: after a restart
// every target's first scrape brings all of it again.
type metaStore struct {
	mu  sync.RWMutex
	m   map[string]*sample.Metadata
	gen atomic.Uint64 // bumped at every change
}

func newMetaStore() *metaStore {
	return &metaStore{m: make(map[string]*sample.Metadata)}
}

// update records mds, bumping the generation when anything changed.
func (s *metaStore) update(mds []sample.Metadata) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, md := range mds {
		if old, ok := s.m[md.Family]; ok && *old == md {
			continue
		}
		c := md
		s.m[md.Family] = &c
		changed = true
	}
	if changed {
		s.gen.Add(1)
	}
}

// snapshot is every family's metadata, sorted by family.
func (s *metaStore) snapshot() []sample.Metadata {
	s.mu.RLock()
	out := make([]sample.Metadata, 0, len(s.m))
	for _, md := range s.m {
		out = append(out, *md)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b sample.Metadata) int { return strings.Compare(a.Family, b.Family) })
	return out
}

// familySuffixes are the suffixes that a series' name may add to its
// family's name (text format and OpenMetrics).
var familySuffixes = []string{"_total", "_bucket", "_sum", "_count", "_created", "_info", "_gcount", "_gsum"}

// lookup is the metadata of the family of the series named name, or nil.
// The returned value must not be modified.
func (s *metaStore) lookup(name string) *sample.Metadata {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if md, ok := s.m[name]; ok {
		return md
	}
	for _, suf := range familySuffixes {
		if f, ok := strings.CutSuffix(name, suf); ok {
			if md, ok := s.m[f]; ok {
				return md
			}
		}
	}
	return nil
}

// runMetadata sends the whole metadata store as 1.0 metadata requests, in
// chunks of the endpoint's MetadataMaxPerSend, every MetadataInterval,
// while the endpoint speaks 1.0 (a 2.0 request carries metadata inline).
// A failed send is logged and counted, and tried again at the next
// interval: metadata is sent again in full every interval anyway.
func (e *endpoint) runMetadata(ctx context.Context) {
	if !e.cfg.MetadataSend || e.meta == nil {
		return
	}
	t := time.NewTicker(e.cfg.MetadataInterval)
	defer t.Stop()
	var buf, comp []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if e.v2() {
			continue
		}
		mds := e.meta.snapshot()
		for len(mds) > 0 && ctx.Err() == nil {
			n := min(len(mds), e.cfg.MetadataMaxPerSend)
			buf = AppendMetadataRequest(buf[:0], mds[:n])
			comp = snappy.Encode(comp[:cap(comp)], buf)
			res, _, err := e.client.post(ctx, comp, false)
			if res.result == sendOK {
				e.m.metadata.Add(float64(n))
			} else {
				e.m.metadataFailed.Add(float64(n))
				e.logger.Warn("sending metadata failed", "err", err, "families", n)
			}
			mds = mds[n:]
		}
	}
}
