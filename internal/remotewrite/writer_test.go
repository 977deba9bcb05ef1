package remotewrite

import (
	"testing"
	"time"
)

func TestEverySampleArrivesInOrderAcrossShards(t *testing.T) {
	rcv := newReceiver(t)
	ep := endpointFor(rcv)
	ep.Queue.MinShards, ep.Queue.MaxShards = 4, 4
	ep.Queue.MaxSamplesPerSend = 70
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(50, 40, 1_000_000))
	r.w.Flush()
	eventually(t, 20*time.Second, "2000 samples at the receiver", func() bool { return rcv.total() >= 2000 })
	checkExactlyOnce(t, rcv.snapshot(), 40, 50)
	if got := counter(t, r.reg, "prometheus_remote_storage_samples_total"); got != 2000 {
		t.Errorf("samples_total = %v, want 2000", got)
	}
	if got := counter(t, r.reg, "prometheus_remote_storage_shards"); got != 4 {
		t.Errorf("shards = %v, want 4", got)
	}
}
