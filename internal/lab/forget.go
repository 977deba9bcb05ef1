package lab

import "time"

// A scenario lasts a minute and keeps everything it saw; `shoal demo` runs
// for as long as its user watches, so it drops what its sliding window no
// longer needs. Forgetting never changes the receiver's counters (Stats) or
// its reject rules, since a series keeps its newest timestamp; the
// per-series figures (Series, ByInstance) then cover only what is newer.

// ForgetBefore drops the scrapes that arrived before t from the log.
func (ts *Targets) ForgetBefore(t time.Time) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	keep := ts.log[:0]
	for _, s := range ts.log {
		if !s.Time.Before(t) {
			keep = append(keep, s)
		}
	}
	clear(ts.log[len(keep):])
	ts.log = keep
}

// ForgetBefore drops the stored points, and the rejected timestamps, older
// than t from every series.
func (r *Receiver) ForgetBefore(t time.Time) {
	ms := t.UnixMilli()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.series {
		i := 0
		for i < len(s.points) && s.points[i].T < ms {
			i++
		}
		if i > 0 {
			s.points = append(s.points[:0:0], s.points[i:]...)
		}
		for at := range s.oooAt {
			if at < ms {
				delete(s.oooAt, at)
			}
		}
		for at := range s.dupAt {
			if at < ms {
				delete(s.dupAt, at)
			}
		}
	}
}
