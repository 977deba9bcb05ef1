package lab

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

func TestPrometheusReceivesRemoteWriteAndAnswersPromQL(t *testing.T) {
	p := StartPrometheus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now().Truncate(time.Second).UnixMilli()
	post := func(ts ...prompb.TimeSeries) int {
		resp, err := http.Post(p.RemoteWriteURL(), "application/x-protobuf", bytes.NewReader(encode(t, ts...)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(series("lab_up", "a:1", smp(now-2000, 1), smp(now-1000, 1))); code/100 != 2 {
		t.Fatalf("remote write answered %d", code)
	}
	// Prometheus 2.x rejects an older sample, the whole request, with 400.
	if code := post(series("lab_up", "a:1", smp(now-1500, 1))); code != http.StatusBadRequest {
		t.Errorf("an out-of-order sample answered %d, want 400", code)
	}
	v, err := p.Query(ctx, `count_over_time(lab_up{instance="a:1"}[1m])`, time.UnixMilli(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 1 || v[0].Value != 2 {
		t.Errorf("count_over_time = %v, want one series with 2 samples", v)
	}
	m, err := p.QueryRange(ctx, `lab_up`, time.UnixMilli(now-2000), time.UnixMilli(now), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(m[0].Values) != 3 {
		t.Errorf("query_range = %v, want one series at 3 steps", m)
	}
	if _, err := p.SelfMetric(ctx, "prometheus_tsdb_head_series"); err != nil {
		t.Error(err)
	}
}

func TestPrometheusWithAnOutOfOrderWindowAcceptsOlderSamples(t *testing.T) {
	p := StartPrometheus(t, OutOfOrderWindow(10*time.Minute))
	now := time.Now().Truncate(time.Second).UnixMilli()
	for _, ts := range []int64{now - 1000, now - 3000} {
		resp, err := http.Post(p.RemoteWriteURL(), "application/x-protobuf", bytes.NewReader(encode(t, series("lab_up", "a:1", smp(ts, 1)))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Errorf("sample at %d answered %d with a window", ts, resp.StatusCode)
		}
	}
}

func TestPrometheusAgentScrapesTargetsAndWritesToAReceiver(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping a process-level test in -short mode")
	}
	ts, err := StartTargets(3, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	rx := startReceiver(t)
	a := StartPrometheusAgent(t, AgentConfig{TargetsFile: ts.FileSD(), Interval: time.Second, RemoteWriteURL: rx.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	err = WaitFor(ctx, func() bool {
		by := rx.ByInstance()
		for _, addr := range ts.Addrs() {
			if len(by[addr].UpTimes) < 2 {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("the agent's samples did not reach the receiver: %v (stats %+v)", err, rx.Stats())
	}
	if u, err := a.Usage(); err != nil || u.CPU <= 0 && u.PeakRSS <= 0 {
		t.Errorf("usage %+v %v", u, err)
	}
}
