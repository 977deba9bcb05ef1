package lab

import (
	"net/http"
	"testing"
	"time"
)

func TestReceiverForgetsOldPointsButKeepsItsCountsAndRules(t *testing.T) {
	r := startReceiver(t)
	if code, body := write(t, r, series("m", "a", smp(1000, 1), smp(2000, 2), smp(3000, 3))); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, body)
	}
	r.ForgetBefore(time.UnixMilli(2500))
	got := r.Lookup("__name__", "m")
	if len(got) != 1 || len(got[0].Points) != 1 || got[0].Points[0].T != 3000 {
		t.Fatalf("after forgetting before 2500 the series holds %+v, want only t=3000", got)
	}
	if st := r.Stats(); st.Accepted != 3 {
		t.Errorf("accepted %d after forgetting, want the counter to stay 3", st.Accepted)
	}
	// The newest timestamp is kept: an older sample is still out of order.
	if code, _ := write(t, r, series("m", "a", smp(2000, 9))); code != http.StatusBadRequest {
		t.Errorf("a sample older than a forgotten one's successor got %d, want 400", code)
	}
}

func TestTargetsForgetOldScrapes(t *testing.T) {
	ts, err := StartTargets(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	for range 2 {
		resp, err := http.Get("http://" + ts.Addr(0) + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	log := ts.Log()
	if len(log) != 2 {
		t.Fatalf("%d scrapes logged, want 2", len(log))
	}
	ts.ForgetBefore(log[1].Time)
	if got := ts.Log(); len(got) != 1 || !got[0].Time.Equal(log[1].Time) {
		t.Errorf("after forgetting before the second scrape the log holds %+v", got)
	}
	ts.ForgetBefore(time.Now().Add(time.Hour))
	if got := ts.Log(); len(got) != 0 {
		t.Errorf("forgetting everything left %d scrapes", len(got))
	}
}
