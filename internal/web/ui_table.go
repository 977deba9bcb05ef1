package web

import (
	"fmt"
	"html"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// defaultPageSize is how many rows a table shows unless ?limit= says
// otherwise; ?limit=all shows every row.
const defaultPageSize = 500

// cellKind says how a column's cells are drawn and sorted; templates
// compare it by name and use it as a class.
type cellKind string

const (
	cellText     cellKind = "text"
	cellHealth   cellKind = "health"
	cellTime     cellKind = "time"
	cellDuration cellKind = "duration"
	cellObject   cellKind = "object"
	cellNumber   cellKind = "number"
	cellBool     cellKind = "bool"
	cellURL      cellKind = "url"
)

// blockTable is a list of blocks of one flat type, shown as a table whose
// columns are the block's attributes.
type blockTable struct {
	Name    string
	columns []tableColumn
	rows    []reflect.Value // the blocks, pointers followed
}

type tableColumn struct {
	name  string
	kind  cellKind
	index []int
}

func newBlockTable(name string, slice reflect.Value) *blockTable {
	et := slice.Type().Elem()
	for et.Kind() == reflect.Pointer {
		et = et.Elem()
	}
	t := &blockTable{Name: name}
	for _, f := range value.StructFields(et) {
		if f.Kind != value.FieldAttr {
			continue
		}
		t.columns = append(t.columns, tableColumn{name: f.Name, kind: kindOf(f.Name, et.FieldByIndex(f.Index).Type), index: f.Index})
	}
	t.rows = make([]reflect.Value, 0, slice.Len())
	for i := range slice.Len() {
		e := slice.Index(i)
		for e.Kind() == reflect.Pointer {
			if e.IsNil() {
				break
			}
			e = e.Elem()
		}
		if e.Kind() == reflect.Struct {
			t.rows = append(t.rows, e)
		}
	}
	return t
}

func kindOf(name string, t reflect.Type) cellKind {
	switch {
	case t == typeTime:
		return cellTime
	case t == typeDuration:
		return cellDuration
	case name == "health" && t.Kind() == reflect.String:
		return cellHealth
	case name == "url" && t.Kind() == reflect.String:
		return cellURL
	case t.Kind() == reflect.Map || t.Kind() == reflect.Struct && value.IsTagged(t):
		return cellObject
	case t.Kind() == reflect.Bool:
		return cellBool
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return cellNumber
	}
	return cellText
}

// tableQuery is what the query string asks of a table: ?q= filters rows by
// a substring of any cell, ?sort= and ?order=desc order them, ?limit= (a
// number or "all") and ?page= (from 1) page them.
type tableQuery struct {
	Filter string
	Sort   string
	Desc   bool
	Limit  int // 0 means every row
	Page   int
}

func parseTableQuery(q url.Values) tableQuery {
	tq := tableQuery{
		Filter: strings.TrimSpace(q.Get("q")),
		Sort:   q.Get("sort"),
		Desc:   q.Get("order") == "desc",
		Limit:  defaultPageSize,
		Page:   1,
	}
	switch l := q.Get("limit"); l {
	case "":
	case "all":
		tq.Limit = 0
	default:
		if n, err := strconv.Atoi(l); err == nil && n > 0 {
			tq.Limit = n
		}
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 1 {
		tq.Page = p
	}
	return tq
}

// tableView is a table ready for the template.
type tableView struct {
	Name    string
	Caption string
	Columns []columnView
	// Body is the rows, rendered by writeRow; the table body is the hot
	// part of a page, and html/template costs ten times more for it.
	Body  string
	Pager pager
}

type columnView struct {
	Name     string // the attribute's name, which ?sort= takes
	Title    string // the name spaced out so that headers can wrap
	Kind     cellKind
	SortURL  string
	AriaSort string // "ascending", "descending" or "" for the sort column
}

// pager is the count and the pagination links of a table.
type pager struct {
	Total    int    // rows before filtering
	Matched  int    // rows after filtering
	From, To int    // 1-based range shown; From is 0 when nothing is shown
	Page     int    // current page
	Pages    int    // number of pages
	FirstURL string // links; empty when not applicable
	PrevURL  string
	NextURL  string
	LastURL  string
	AllURL   string // shows every row, when rows are hidden
	PagedURL string // back to pages, when every row is shown
	Filter   string
	Noun     string // what a row is, plural ("targets")
}

// view filters, sorts and pages the table for q. Only the rows shown are
// rendered, so a page costs little more than its 500 rows even when the
// table has ten thousand.
func (t *blockTable) view(q tableQuery, base url.Values, now time.Time) tableView {
	sortCol := -1
	for i, c := range t.columns {
		if c.name == q.Sort {
			sortCol = i
		}
	}
	if sortCol < 0 {
		// A stable default order keeps rows in place between live updates.
		for i, c := range t.columns {
			if c.name == "url" {
				sortCol = i
			}
		}
		if sortCol < 0 && len(t.columns) > 0 {
			sortCol = 0
		}
		q.Sort = ""
		if sortCol >= 0 {
			q.Sort = t.columns[sortCol].name
		}
	}

	idx := make([]int, 0, len(t.rows))
	if q.Filter == "" {
		for i := range t.rows {
			idx = append(idx, i)
		}
	} else {
		needle := strings.ToLower(q.Filter)
		for i, r := range t.rows {
			if t.rowMatches(r, needle) {
				idx = append(idx, i)
			}
		}
	}
	if sortCol >= 0 {
		t.sortRows(idx, t.columns[sortCol], q.Desc)
	}

	v := tableView{Name: t.Name}
	v.Pager = paginate(len(t.rows), len(idx), q, base)
	for i, c := range t.columns {
		cv := columnView{Name: c.name, Title: strings.ReplaceAll(c.name, "_", " "), Kind: c.kind}
		desc := false
		if i == sortCol {
			cv.AriaSort = "ascending"
			if q.Desc {
				cv.AriaSort = "descending"
			}
			desc = !q.Desc
		}
		cv.SortURL = withQuery(base, map[string]string{"sort": c.name, "order": orderName(desc), "page": ""})
		v.Columns = append(v.Columns, cv)
	}
	if v.Pager.From > 0 {
		var b strings.Builder
		for _, i := range idx[v.Pager.From-1 : v.Pager.To] {
			t.writeRow(&b, t.rows[i], now)
		}
		v.Body = b.String()
	}
	return v
}

func orderName(desc bool) string {
	if desc {
		return "desc"
	}
	return ""
}

func (t *blockTable) rowMatches(r reflect.Value, needle string) bool {
	for _, c := range t.columns {
		if containsFold(cellString(r.FieldByIndex(c.index), c.kind), needle) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains needle, which is lower case.
func containsFold(s, needle string) bool {
	if strings.Contains(s, needle) {
		return true
	}
	for i := range len(s) {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.Contains(strings.ToLower(s), needle)
		}
	}
	return false
}

// cellString is the text a filter looks at and a sort compares.
func cellString(fv reflect.Value, kind cellKind) string {
	switch kind {
	case cellText, cellHealth, cellURL:
		if fv.Kind() == reflect.String {
			return fv.String()
		}
	case cellTime:
		tm := fv.Interface().(time.Time)
		if tm.IsZero() {
			return "never"
		}
		return tm.UTC().Format(time.RFC3339)
	case cellDuration:
		return fmtDuration(time.Duration(fv.Int()))
	}
	return plainText(value.FromReflect(fv))
}

type sortKey struct {
	num float64
	str string
}

func (t *blockTable) sortRows(idx []int, c tableColumn, desc bool) {
	keys := make([]sortKey, len(t.rows))
	for _, i := range idx {
		fv := t.rows[i].FieldByIndex(c.index)
		switch {
		case c.kind == cellTime:
			keys[i].num = float64(fv.Interface().(time.Time).UnixNano())
		case c.kind == cellDuration:
			keys[i].num = float64(fv.Int())
		case c.kind == cellBool:
			if fv.Bool() {
				keys[i].num = 1
			}
		case c.kind == cellNumber:
			if f, err := strconv.ParseFloat(value.FromReflect(fv).Number().String(), 64); err == nil {
				keys[i].num = f
			}
		default:
			keys[i].str = cellString(fv, c.kind)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := keys[idx[a]], keys[idx[b]]
		if desc {
			ka, kb = kb, ka
		}
		if ka.num != kb.num {
			return ka.num < kb.num
		}
		return ka.str < kb.str
	})
}

// writeRow writes one row of the table. Every piece of text goes through
// html.EscapeString or renderValue, which escapes.
func (t *blockTable) writeRow(b *strings.Builder, r reflect.Value, now time.Time) {
	b.WriteString("<tr>")
	for _, c := range t.columns {
		fv := r.FieldByIndex(c.index)
		b.WriteString(`<td class="k-`)
		b.WriteString(string(c.kind))
		b.WriteString(`">`)
		switch c.kind {
		case cellTime:
			tm := fv.Interface().(time.Time)
			if tm.IsZero() {
				b.WriteString(`<span class="muted">never</span>`)
				break
			}
			b.WriteString(`<time datetime="`)
			b.WriteString(tm.UTC().Format(time.RFC3339Nano))
			b.WriteString(`" title="`)
			b.WriteString(fmtTime(tm))
			b.WriteString(`">`)
			b.WriteString(fmtAgo(now, tm))
			b.WriteString(`</time>`)
		case cellDuration:
			b.WriteString(fmtDuration(time.Duration(fv.Int())))
		case cellHealth:
			writeBadge(b, fv.String())
		case cellObject:
			var pairs []labelPair
			if m, ok := fv.Interface().(map[string]string); ok {
				pairs = stringMapPairs(m)
			} else {
				pairs = objectPairs(value.FromReflect(fv))
			}
			writePairs(b, pairs)
		default:
			v := value.FromReflect(fv)
			switch v.Type() {
			case value.TypeString, value.TypeNumber, value.TypeBool, value.TypeNull:
				if txt := plainText(v); txt != "" {
					b.WriteString(html.EscapeString(txt))
				} else {
					b.WriteString(`<span class="muted" aria-label="empty">—</span>`)
				}
			default:
				b.WriteString(`<code class="value">`)
				b.WriteString(renderValue(v))
				b.WriteString(`</code>`)
			}
		}
		b.WriteString("</td>")
	}
	b.WriteString("</tr>\n")
}

// writeBadge writes a state as colour and text, like the "health"
// template.
func writeBadge(b *strings.Builder, state string) {
	b.WriteString(`<span class="badge `)
	b.WriteString(healthClass(state))
	b.WriteString(`"><span class="dot" aria-hidden="true"></span>`)
	b.WriteString(html.EscapeString(state))
	b.WriteString(`</span>`)
}

// writePairs writes labels as chips.
func writePairs(b *strings.Builder, pairs []labelPair) {
	if len(pairs) == 0 {
		b.WriteString(`<span class="muted">none</span>`)
		return
	}
	b.WriteString(`<ul class="labels">`)
	for _, p := range pairs {
		b.WriteString(`<li><span class="ln">`)
		b.WriteString(html.EscapeString(p.Name))
		b.WriteString(`</span>=<span class="lv">`)
		b.WriteString(html.EscapeString(p.Value))
		b.WriteString(`</span></li>`)
	}
	b.WriteString(`</ul>`)
}

// paginate computes the range shown and the links around it.
func paginate(total, matched int, q tableQuery, base url.Values) pager {
	p := pager{Total: total, Matched: matched, Filter: q.Filter, Page: 1, Pages: 1}
	limit := q.Limit
	if limit <= 0 || limit >= matched {
		if matched > 0 {
			p.From, p.To = 1, matched
		}
		if q.Limit == 0 && matched > defaultPageSize {
			p.PagedURL = withQuery(base, map[string]string{"limit": "", "page": ""})
		}
		return p
	}
	p.Pages = (matched + limit - 1) / limit
	p.Page = min(q.Page, p.Pages)
	p.From = (p.Page-1)*limit + 1
	p.To = min(p.Page*limit, matched)
	page := func(n int) string {
		s := strconv.Itoa(n)
		if n == 1 {
			s = ""
		}
		return withQuery(base, map[string]string{"page": s})
	}
	if p.Page > 1 {
		p.FirstURL, p.PrevURL = page(1), page(p.Page-1)
	}
	if p.Page < p.Pages {
		p.NextURL, p.LastURL = page(p.Page+1), page(p.Pages)
	}
	p.AllURL = withQuery(base, map[string]string{"limit": "all", "page": ""})
	return p
}

// withQuery returns "?..." with base's parameters changed by set; an empty
// value removes the parameter.
func withQuery(base url.Values, set map[string]string) string {
	q := url.Values{}
	for k, v := range base {
		q[k] = v
	}
	for k, v := range set {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return "?"
	}
	return "?" + q.Encode()
}

func healthClass(s string) string {
	switch s {
	case "up", "healthy", "participant", "alive":
		return "ok"
	case "down", "unhealthy", "dead":
		return "bad"
	case "exited", "terminating", "left":
		return "warn"
	}
	return "unknown"
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

// fmtAgo says how long ago t was, for cells that update every few seconds.
func fmtAgo(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < -time.Second:
		// The clocks of two nodes disagree; say so rather than guess.
		return "in " + (-d).Round(time.Second).String()
	case d < time.Second:
		return "just now"
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs ago", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds ago", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
