package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
)

// moduleServer serves a config with a custom component instance,
// "scrapes.a", whose module runs a prometheus.scrape and a nested instance.
func moduleServer() *Server {
	healthy := component.Health{State: component.HealthHealthy}
	return New(Options{Components: func() []Component {
		return []Component{
			{ID: "scrapes.a/prometheus.scrape.x", ModuleID: "scrapes.a", LocalID: "prometheus.scrape.x", Name: "prometheus.scrape", Label: "x", Health: healthy,
				ReferencesTo: []string{"inner.b"}},
			{ID: "prometheus.remote_write.rx", Name: "prometheus.remote_write", Label: "rx", Health: healthy},
			{ID: "scrapes.a", LocalID: "scrapes.a", Name: "scrapes", Label: "a", ModuleIDs: []string{"scrapes.a"}, Health: healthy},
			{ID: "scrapes.a/inner.b", ModuleID: "scrapes.a", LocalID: "inner.b", Name: "inner", Label: "b", ModuleIDs: []string{"scrapes.a/inner.b"}, Health: healthy},
			{ID: "scrapes.a/inner.b/discovery.file.f", ModuleID: "scrapes.a/inner.b", LocalID: "discovery.file.f", Name: "discovery.file", Label: "f", Health: healthy},
			// Sorts between "scrapes.a" and its module's components by
			// bytes ('-' < '/'), but must not end up inside it.
			{ID: "scrapes.a-b", Name: "scrapes", Label: "a-b", Health: healthy},
		}
	}})
}

func TestAPIModuleComponentIDs(t *testing.T) {
	h := moduleServer().Handler()

	code, body := get(t, h, "/api/v0/web/components")
	var top []componentJSON
	if code != http.StatusOK || json.Unmarshal([]byte(body), &top) != nil {
		t.Fatalf("/components: %d %s", code, body)
	}
	var ids []string
	for _, c := range top {
		ids = append(ids, c.ModuleID+"|"+c.LocalID)
		if c.LocalID == "scrapes.a" && (len(c.CreatedModuleIDs) != 1 || c.CreatedModuleIDs[0] != "scrapes.a") {
			t.Errorf("the instance's createdModuleIDs = %v", c.CreatedModuleIDs)
		}
	}
	if got := strings.Join(ids, " "); got != "|prometheus.remote_write.rx |scrapes.a |scrapes.a-b" {
		t.Errorf("/components lists %s, want the top-level components only, as Alloy", got)
	}

	code, body = get(t, h, "/api/v0/web/components/scrapes.a/prometheus.scrape.x")
	var one componentJSON
	if code != http.StatusOK || json.Unmarshal([]byte(body), &one) != nil {
		t.Fatalf("/components/scrapes.a/prometheus.scrape.x: %d %s", code, body)
	}
	if one.ModuleID != "scrapes.a" || one.LocalID != "prometheus.scrape.x" || one.Type != "block" {
		t.Errorf("module component = %+v", one)
	}

	code, body = get(t, h, "/api/v0/web/modules/scrapes.a/inner.b/components")
	var mod []componentJSON
	if code != http.StatusOK || json.Unmarshal([]byte(body), &mod) != nil || len(mod) != 1 || mod[0].LocalID != "discovery.file.f" {
		t.Fatalf("/modules/scrapes.a/inner.b/components: %d %s", code, body)
	}
	if code, _ := get(t, h, "/api/v0/web/modules/nope.x/components"); code != http.StatusNotFound {
		t.Errorf("an unknown module answers %d, want 404", code)
	}
}

func TestUIListsModuleComponentsUnderTheirInstance(t *testing.T) {
	h := moduleServer().Handler()
	code, body := get(t, h, "/")
	if code != http.StatusOK {
		t.Fatalf("/: %d", code)
	}
	order := []string{`>prometheus.remote_write.rx<`, `>scrapes.a<`, `>inner.b<`, `>discovery.file.f<`, `>prometheus.scrape.x<`, `>scrapes.a-b<`}
	last := -1
	for _, s := range order {
		i := strings.Index(body, s)
		if i < 0 || i < last {
			t.Fatalf("%s is missing or out of tree order in the component list", s)
		}
		last = i
	}
	if !strings.Contains(body, `data-module-depth="2"`) || !strings.Contains(body, `href="/component/scrapes.a%2Finner.b%2Fdiscovery.file.f"`) {
		t.Error("the nested component is not indented under its instance or not linked by its global ID")
	}
	if code, page := get(t, h, "/component/scrapes.a%2Finner.b%2Fdiscovery.file.f"); code != http.StatusOK || !strings.Contains(page, "scrapes.a/inner.b/discovery.file.f") {
		t.Errorf("the nested component's page answers %d", code)
	}
	// References are local in the API, as in Alloy, and linked by their
	// global ID in the UI.
	if _, page := get(t, h, "/component/scrapes.a%2Fprometheus.scrape.x"); !strings.Contains(page, `href="/component/scrapes.a%2Finner.b"`) {
		t.Error("the component page does not link the module-local reference by its global ID")
	}
	if _, body := get(t, h, "/api/v0/web/components/scrapes.a/prometheus.scrape.x"); !strings.Contains(body, `"referencesTo": [
    "inner.b"
  ]`) {
		t.Errorf("the API's references are not module-local: %s", body)
	}
	if _, page := get(t, h, "/graph"); !strings.Contains(page, "scrapes.a/prometheus.scrape.x") {
		t.Error("the graph lacks the module's components")
	}
}
