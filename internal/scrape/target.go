package scrape

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// target is one target as the engine scrapes it, derived from its
// discovered labels and the component's Config. It is immutable once built.
type target struct {
	// id is the identity of the target among the component's targets: the
	// key over every non-meta label. Distinct ids are distinct targets.
	id uint64
	// key is the cluster key (Key with the excluded labels): it decides the
	// owner and the target's place on the tick grid.
	key uint64
	// labels are the target's final labels, internal ones included, without
	// __meta_*; public are those that do not start with "__" (job,
	// instance, ...), added to every scraped series.
	labels labels.Labels
	public labels.Labels
	url    string
	job    string

	interval time.Duration
	timeout  time.Duration
	// clamped is set when the timeout was cut down to the interval.
	clamped bool
}

// intervalMs is the grid period in Unix milliseconds.
func (t *target) intervalMs() int64 { return t.interval.Milliseconds() }

// sameAs reports whether o scrapes exactly like t, so that an update can
// keep t's loop untouched.
func (t *target) sameAs(o *target) bool {
	return t.id == o.id && t.key == o.key && t.url == o.url && t.interval == o.interval &&
		t.timeout == o.timeout && labels.Equal(t.labels, o.labels)
}

// newTarget derives a target from its discovered labels, filling what the
// target does not set from cfg the way Prometheus does: job,
// __scrape_interval__, __scrape_timeout__, __metrics_path__, __scheme__ and
// __param_*; instance defaults to __address__.
func newTarget(discovered labels.Labels, cfg *Config) (*target, error) {
	t := &target{
		id:  Key(discovered, nil),
		key: Key(discovered, cfg.ExcludedLabels),
	}
	lb := labels.NewBuilder(discovered)
	setDefault := func(name, value string) {
		if lb.Get(name) == "" {
			lb.Set(name, value)
		}
	}
	setDefault(model.JobLabel, cfg.JobName)
	setDefault(model.ScrapeIntervalLabel, model.Duration(cfg.Interval).String())
	setDefault(model.ScrapeTimeoutLabel, model.Duration(cfg.Timeout).String())
	setDefault(model.MetricsPathLabel, cfg.MetricsPath)
	setDefault(model.SchemeLabel, cfg.Scheme)
	for k, v := range cfg.Params {
		if len(v) > 0 {
			setDefault(model.ParamLabelPrefix+k, v[0])
		}
	}
	lb.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, metaPrefix) {
			lb.Del(l.Name)
		}
	})

	addr := lb.Get(model.AddressLabel)
	if addr == "" {
		return nil, errors.New("target has no __address__ label")
	}
	if strings.Contains(addr, "/") {
		return nil, fmt.Errorf("target address %q contains a path", addr)
	}
	interval, err := model.ParseDuration(lb.Get(model.ScrapeIntervalLabel))
	if err != nil || interval <= 0 {
		return nil, fmt.Errorf("target %s: invalid scrape interval %q", addr, lb.Get(model.ScrapeIntervalLabel))
	}
	timeout, err := model.ParseDuration(lb.Get(model.ScrapeTimeoutLabel))
	if err != nil || timeout <= 0 {
		return nil, fmt.Errorf("target %s: invalid scrape timeout %q", addr, lb.Get(model.ScrapeTimeoutLabel))
	}
	t.interval, t.timeout = time.Duration(interval), time.Duration(timeout)
	if t.interval < time.Millisecond {
		return nil, fmt.Errorf("target %s: scrape interval %s is below 1ms", addr, t.interval)
	}
	if t.timeout > t.interval {
		t.timeout, t.clamped = t.interval, true
	}
	setDefault(model.InstanceLabel, addr)

	t.labels = lb.Labels()
	t.job = t.labels.Get(model.JobLabel)
	pb := labels.NewScratchBuilder(t.labels.Len())
	t.labels.Range(func(l labels.Label) {
		if !strings.HasPrefix(l.Name, "__") {
			pb.Add(l.Name, l.Value)
		}
	})
	t.public = pb.Labels()
	t.url = targetURL(t.labels, cfg.Params)
	return t, nil
}

// targetURL builds the scrape URL: the __param_* labels replace the first
// value of the configured parameter of the same name.
func targetURL(lbls labels.Labels, cfgParams url.Values) string {
	params := url.Values{}
	for k, v := range cfgParams {
		params[k] = append([]string(nil), v...)
	}
	lbls.Range(func(l labels.Label) {
		name, ok := strings.CutPrefix(l.Name, model.ParamLabelPrefix)
		if !ok {
			return
		}
		if len(params[name]) > 0 {
			params[name][0] = l.Value
		} else {
			params[name] = []string{l.Value}
		}
	})
	u := url.URL{
		Scheme:   lbls.Get(model.SchemeLabel),
		Host:     lbls.Get(model.AddressLabel),
		Path:     lbls.Get(model.MetricsPathLabel),
		RawQuery: params.Encode(),
	}
	return u.String()
}
