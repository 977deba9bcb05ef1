package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"time"

	"github.com/shoal-dev/shoal/internal/livedebug"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ui holds the parsed pages. Each page is the layout plus its own
// "content" template.
type ui struct {
	pages map[string]*template.Template
}

func uiFuncs() template.FuncMap {
	return template.FuncMap{
		"healthClass":   healthClass,
		"livedebugRate": func() int { return livedebug.RatePerSecond },
		// safe marks HTML built by renderValue and drawGraph, which
		// escape every piece of text they write.
		"safe": func(s string) template.HTML { return template.HTML(s) },
	}
}

func newUI() *ui {
	base := template.Must(template.New("").Funcs(uiFuncs()).ParseFS(templateFS, "templates/layout.html"))
	u := &ui{pages: map[string]*template.Template{}}
	for _, name := range []string{"components", "component", "clustering", "graph", "targets", "notfound"} {
		t := template.Must(base.Clone())
		u.pages[name] = template.Must(t.ParseFS(templateFS, "templates/"+name+".html"))
	}
	return u
}

// uiRoutes mounts the server-rendered pages and their static files.
func (s *Server) uiRoutes(m *http.ServeMux) {
	s.ui = newUI()
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	m.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		files.ServeHTTP(w, r)
	}))
	m.HandleFunc("GET /{$}", s.pageComponents)
	m.HandleFunc("GET /component/{id...}", s.pageComponent)
	m.HandleFunc("GET /clustering", s.pageClustering)
	m.HandleFunc("GET /graph", s.pageGraph)
	m.HandleFunc("GET /targets", s.pageTargets)
}

// pageData is what the layout needs around a page's content.
type pageData struct {
	Title   string
	Nav     string // the nav entry marked as the current page
	Node    string
	Version string
	Now     time.Time
	Content any
}

func (p pageData) NowISO() string  { return p.Now.UTC().Format(time.RFC3339) }
func (p pageData) NowText() string { return p.Now.Format("15:04:05") }

func (s *Server) clusterStatus() ClusterStatus {
	if s.opts.ClusterStatus == nil {
		return ClusterStatus{Ready: true, Message: "This node runs without clustering."}
	}
	return s.opts.ClusterStatus()
}

// render executes a page into a buffer first, so that a failure answers
// 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, status int, page string, d pageData) {
	d.Version = s.opts.Version
	if d.Node == "" {
		d.Node = s.clusterStatus().Self
	}
	var buf bytes.Buffer
	if err := s.ui.pages[page].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("rendering a page failed", "page", page, "err", err)
		http.Error(w, "rendering the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	out := buf.Bytes()
	if s.prefix != "" {
		// Every link the pages make to the UI is absolute from its root
		// (href="/..."); all text from the config or the network is
		// escaped, so this pattern only occurs in our own markup.
		for _, attr := range []string{` href="/`, ` src="/`, ` action="/`, ` data-url="/`} {
			out = bytes.ReplaceAll(out, []byte(attr), []byte(attr[:len(attr)-1]+s.prefix+"/"))
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

func (s *Server) notFound(w http.ResponseWriter, msg string) {
	s.render(w, http.StatusNotFound, "notfound", pageData{Title: "Not found", Now: time.Now(), Content: msg})
}

// link is a component named with the URL of its page.
type link struct{ ID, URL string }

func componentURL(id string) string { return "/component/" + url.PathEscape(id) }

func links(ids []string) []link {
	out := make([]link, len(ids))
	for i, id := range ids {
		out[i] = link{id, componentURL(id)}
	}
	return out
}
