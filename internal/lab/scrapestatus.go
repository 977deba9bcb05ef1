package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// TargetStatus is one target of a prometheus.scrape component's debug
// info, as the component page shows it to a user.
type TargetStatus struct {
	Job       string
	URL       string
	Health    string // "up", "down" or "unknown"
	Labels    map[string]string
	LastError string
	// LastScrape is zero before the first scrape.
	LastScrape time.Time
	// Key is the target's cluster key in hex; its grid offset is the key
	// modulo the interval in ms (see GridOffset).
	Key   string
	Owned bool
}

// ScrapeStatus reads the debug info of the node's component (e.g.
// "prometheus.scrape.lab") from /api/v0/web/components/{id}.
func (n *Node) ScrapeStatus(ctx context.Context, componentID string) ([]TargetStatus, error) {
	var body json.RawMessage
	if err := n.getJSON(ctx, "/api/v0/web/components/"+componentID, &body); err != nil {
		return nil, err
	}
	out, err := ParseTargetStatus(body)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %s: %w", n.Name, componentID, err)
	}
	return out, nil
}

// ParseTargetStatus decodes the target blocks of a component's debug info
// from the JSON of /api/v0/web/components/{id} (Alloy's typed JSON).
func ParseTargetStatus(body []byte) ([]TargetStatus, error) {
	var detail struct {
		DebugInfo []debugField `json:"debugInfo"`
	}
	if err := json.Unmarshal(body, &detail); err != nil {
		return nil, fmt.Errorf("component detail: %w", err)
	}
	var out []TargetStatus
	for _, blk := range detail.DebugInfo {
		if blk.Name != "target" {
			continue
		}
		var ts TargetStatus
		for _, f := range blk.Body {
			if f.Value == nil {
				continue
			}
			var err error
			switch f.Name {
			case "job":
				err = json.Unmarshal(f.Value.Value, &ts.Job)
			case "url":
				err = json.Unmarshal(f.Value.Value, &ts.URL)
			case "health":
				err = json.Unmarshal(f.Value.Value, &ts.Health)
			case "last_error":
				err = json.Unmarshal(f.Value.Value, &ts.LastError)
			case "key":
				err = json.Unmarshal(f.Value.Value, &ts.Key)
			case "owned":
				err = json.Unmarshal(f.Value.Value, &ts.Owned)
			case "last_scrape":
				var s string
				if err = json.Unmarshal(f.Value.Value, &s); err == nil && s != "" {
					ts.LastScrape, err = time.Parse(time.RFC3339Nano, s)
				}
			case "labels":
				ts.Labels, err = decodeStringObject(f.Value)
			}
			if err != nil {
				return nil, fmt.Errorf("debug info %s: %w", f.Name, err)
			}
		}
		out = append(out, ts)
	}
	return out, nil
}

// decodeStringObject decodes an object of strings in Alloy's typed JSON.
func decodeStringObject(v *debugValue) (map[string]string, error) {
	if v.Type != "object" {
		return nil, nil
	}
	var items []struct {
		Key   string     `json:"key"`
		Value debugValue `json:"value"`
	}
	if err := json.Unmarshal(v.Value, &items); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		var s string
		if err := json.Unmarshal(it.Value.Value, &s); err != nil {
			return nil, fmt.Errorf("label %s: %w", it.Key, err)
		}
		out[it.Key] = s
	}
	return out, nil
}

// GridOffset is where a target's ticks fall within each interval, in ms
// after its multiples, from the hex key its debug info shows: the grid is
// t = n·interval + key mod interval.
func GridOffset(key string, interval time.Duration) (int64, error) {
	k, err := strconv.ParseUint(key, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("lab: target key %q: %w", key, err)
	}
	ms := uint64(interval.Milliseconds())
	if ms == 0 {
		return 0, fmt.Errorf("lab: interval %s is under a millisecond", interval)
	}
	return int64(k % ms), nil
}
