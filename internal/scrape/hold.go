package scrape

import "github.com/shoal-dev/shoal/internal/sample"

// holdQueue keeps a target's batches, in order, while the cluster holds
// them: after a handoff, the new owner's first samples must not reach the
// receiver before the previous owner's last ones. Each batch may carry the
// gate that Cluster.Hold returned for its tick; a batch is released once its
// own gate and every gate before it are closed. Memory is bounded: beyond
// maxSamples the oldest batches are dropped and counted. It belongs to one
// target's loop.
type holdQueue struct {
	q          []heldBatch
	samples    int
	maxSamples int
}

type heldBatch struct {
	b    *sample.Batch
	gate <-chan struct{}
}

// empty reports whether nothing is held.
func (h *holdQueue) empty() bool { return len(h.q) == 0 }

// push holds b (which the queue now owns) behind gate, which may be nil
// when b only waits for the batches before it. It returns the number of
// samples dropped to stay within bounds.
func (h *holdQueue) push(b *sample.Batch, gate <-chan struct{}) (dropped int) {
	h.q = append(h.q, heldBatch{b: b, gate: gate})
	h.samples += b.Len()
	for h.maxSamples > 0 && h.samples > h.maxSamples && len(h.q) > 1 {
		old := h.q[0]
		h.q[0] = heldBatch{}
		h.q = h.q[1:]
		h.samples -= old.b.Len()
		dropped += old.b.Len()
		// The next batch now stands first; it must still wait for the
		// gate the dropped one was waiting for.
		if h.q[0].gate == nil {
			h.q[0].gate = old.gate
		}
	}
	return dropped
}

// gate returns the channel the first held batch waits for, or nil when
// nothing waits.
func (h *holdQueue) gate() <-chan struct{} {
	for _, hb := range h.q {
		if hb.gate != nil {
			return hb.gate
		}
	}
	return nil
}

// release passes the batches that may go, in order, to send, which
// returns them for reuse.
func (h *holdQueue) release(send func(*sample.Batch)) {
	for len(h.q) > 0 {
		hb := h.q[0]
		if hb.gate != nil {
			select {
			case <-hb.gate:
			default:
				return
			}
		}
		h.q[0] = heldBatch{}
		h.q = h.q[1:]
		h.samples -= hb.b.Len()
		send(hb.b)
	}
	h.q = h.q[:0]
}

// drop forgets everything held and returns the number of samples lost.
func (h *holdQueue) drop() int {
	n := h.samples
	clear(h.q)
	h.q = h.q[:0]
	h.samples = 0
	return n
}
