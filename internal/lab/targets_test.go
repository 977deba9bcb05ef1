package lab

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func get(t *testing.T, c *http.Client, url, agent string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", agent)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", url, err)
	}
	return resp, body
}

func TestTargetsLogEveryScrapeTheyServe(t *testing.T) {
	ts, err := StartTargets(3, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	ts.SetIdentify(func(remote, local string) string {
		if local != ts.Addr(0) && local != ts.Addr(1) && local != ts.Addr(2) {
			return "wrong local address " + local
		}
		return "node-" + remote[:3]
	})

	var bodies []string
	for round := range 4 {
		for i := range ts.Len() {
			resp, body := get(t, http.DefaultClient, "http://"+ts.Addr(i)+"/metrics", "shoal/node-a")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("target %d round %d: status %d", i, round, resp.StatusCode)
			}
			if i == 0 {
				bodies = append(bodies, string(body))
			}
			p := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
			if err != nil {
				t.Fatalf("target %d serves unparsable text: %v\n%s", i, err, body)
			}
			n := 0
			for _, f := range fams {
				n += len(f.Metric)
			}
			if n != 11 {
				t.Errorf("target %d serves %d series, want 10 plus lab_scrapes_total", i, n)
			}
		}
	}
	for i := 1; i < len(bodies); i++ {
		if bodies[i] == bodies[i-1] {
			t.Errorf("scrape %d served the same values as the one before", i)
		}
	}

	log := ts.Log()
	if len(log) != 12 {
		t.Fatalf("log holds %d scrapes, want 12", len(log))
	}
	for _, s := range log {
		if s.Header != "shoal/node-a" || s.Remote == "" || s.Time.IsZero() || s.Status != 200 || s.Scraper != "node-127" {
			t.Errorf("scrape logged as %+v", s)
		}
		if s.Addr != ts.Addr(s.Target) {
			t.Errorf("scrape of target %d logged with addr %s, want %s", s.Target, s.Addr, ts.Addr(s.Target))
		}
	}
	if got := len(ts.Scrapes(1)); got != 4 {
		t.Errorf("target 1 logged %d scrapes, want 4", got)
	}

	raw, err := os.ReadFile(ts.FileSD())
	if err != nil {
		t.Fatal(err)
	}
	var groups []fileSDGroup
	if err := json.Unmarshal(raw, &groups); err != nil {
		t.Fatalf("file_sd is not JSON: %v\n%s", err, raw)
	}
	if len(groups) != 3 || groups[2].Targets[0] != ts.Addr(2) {
		t.Errorf("file_sd lists %+v, want the 3 targets in order", groups)
	}
}

func TestMisbehavingTargetsAreLoggedAndMisbehave(t *testing.T) {
	kinds := []Kind{KindRefuse, KindSleep, KindError, KindGarbage, KindOversized, KindEndless, KindGzipBomb}
	ts, err := StartTargets(len(kinds), 4,
		WithKind(func(i int) Kind { return kinds[i] }),
		TargetSleep(2*time.Second),
		TargetOversize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	url := func(k Kind) string { return "http://" + ts.Addr(int(k)-1) + "/metrics" }

	if _, err := http.Get(url(KindRefuse)); err == nil {
		t.Error("a refusing target answered")
	}

	short := &http.Client{Timeout: 200 * time.Millisecond}
	if resp, err := short.Get(url(KindSleep)); err == nil {
		resp.Body.Close()
		t.Error("a sleeping target answered within 200ms")
	}

	if resp, _ := get(t, http.DefaultClient, url(KindError), "x"); resp.StatusCode != 500 {
		t.Errorf("error target answered %d", resp.StatusCode)
	}

	_, garbage := get(t, http.DefaultClient, url(KindGarbage), "x")
	p := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(string(garbage))); err == nil {
		t.Error("garbage target served parsable text")
	}

	if _, body := get(t, http.DefaultClient, url(KindOversized), "x"); len(body) != 1<<20 {
		t.Errorf("oversized target served %d bytes, want %d", len(body), 1<<20)
	}

	resp, err := http.Get(url(KindEndless))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.CopyN(io.Discard, resp.Body, 8<<20)
	resp.Body.Close()
	if n != 8<<20 {
		t.Errorf("endless target ended after %d bytes", n)
	}

	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err = (&http.Client{Transport: tr}).Get(url(KindGzipBomb))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("gzip bomb sent Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	counted := &countingReader{r: resp.Body}
	zr, err := gzip.NewReader(counted)
	if err != nil {
		t.Fatal(err)
	}
	inflated, _ := io.CopyN(io.Discard, zr, 64<<20)
	resp.Body.Close()
	if inflated != 64<<20 || counted.n*20 > inflated {
		t.Errorf("gzip bomb: %d compressed bytes inflated to %d, want a ratio over 20", counted.n, inflated)
	}

	for i, k := range kinds {
		if got := len(ts.Scrapes(i)); got != 1 {
			t.Errorf("%s target logged %d scrapes, want 1", k, got)
		}
	}
	if s := ts.Scrapes(0); len(s) == 1 && s[0].Status != 0 {
		t.Errorf("refused scrape logged with status %d, want 0", s[0].Status)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestFileSDCanListASubset(t *testing.T) {
	ts, err := StartTargets(4, 1, WithLabels(func(i int) map[string]string { return map[string]string{"team": "a"} }))
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	path := t.TempDir() + "/sub.json"
	if err := ts.WriteFileSD(path, func(i int) bool { return i%2 == 0 }); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var groups []fileSDGroup
	if err := json.Unmarshal(raw, &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[1].Targets[0] != ts.Addr(2) || groups[0].Labels["team"] != "a" {
		t.Errorf("subset file_sd = %+v", groups)
	}
}
