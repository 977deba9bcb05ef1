package puppetdb

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// resourcesJSON answers POST /pdb/query/v4 in PuppetDB's format for a
// resources query.
const resourcesJSON = `[
  {
    "certname": "web1.example.com",
    "resource": "49af83866dc5a1518968b68e58a25319107afe11",
    "type": "Package",
    "title": "node_exporter",
    "exported": false,
    "tags": ["node_exporter", "class", "package"],
    "file": "/etc/puppetlabs/code/environments/prod/modules/ne/manifests/init.pp",
    "line": 12,
    "environment": "prod",
    "parameters": {"ensure": "installed", "port": 9100, "enabled": true, "labels": {"team": "ops"}}
  },
  {
    "certname": "db1.example.com",
    "resource": "0d2b4a1e",
    "type": "Package",
    "title": "node_exporter",
    "exported": false,
    "tags": [],
    "file": "",
    "environment": "prod",
    "parameters": {}
  }
]`

const pql = `resources { type = "Package" and title = "node_exporter" }`

func TestResourcesOfTheQuery(t *testing.T) {
	var mu sync.Mutex
	var got struct{ Query string }
	var method string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/puppetdb/pdb/query/v4" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		method = r.Method
		_ = json.NewDecoder(r.Body).Decode(&got)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte(resourcesJSON))
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.URL = srv.URL + "/puppetdb"
	a.Query = pql
	a.Port = 9100
	a.IncludeParameters = true
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.puppetdb.test", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	targets := discoverytest.ByAddress(ts)
	discoverytest.ExpectLabels(t, "web1", targets["web1.example.com:9100"], map[string]string{
		"__meta_puppetdb_query":                 pql,
		"__meta_puppetdb_certname":              "web1.example.com",
		"__meta_puppetdb_type":                  "Package",
		"__meta_puppetdb_title":                 "node_exporter",
		"__meta_puppetdb_exported":              "false",
		"__meta_puppetdb_tags":                  ",node_exporter,class,package,",
		"__meta_puppetdb_environment":           "prod",
		"__meta_puppetdb_parameter_ensure":      "installed",
		"__meta_puppetdb_parameter_port":        "9100",
		"__meta_puppetdb_parameter_enabled":     "true",
		"__meta_puppetdb_parameter_labels_team": "ops",
	})
	if _, ok := targets["db1.example.com:9100"]["__meta_puppetdb_tags"]; ok {
		t.Errorf("db1 has no tags, so no tags label: %v", targets["db1.example.com:9100"])
	}
	mu.Lock()
	defer mu.Unlock()
	if method != http.MethodPost || got.Query != pql {
		t.Fatalf("request %s with query %q, want a POST of the PQL query", method, got.Query)
	}
}

func TestParametersOnlyWhenAsked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(resourcesJSON))
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.URL, a.Query, a.RefreshInterval = srv.URL, pql, time.Hour
	_, rec := discoverytest.Start(t, "discovery.puppetdb.test", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	ts, _ := rec.Targets()
	for _, tg := range ts {
		for k := range tg {
			if strings.HasPrefix(k, "__meta_puppetdb_parameter_") {
				t.Fatalf("parameter label %s without include_parameters", k)
			}
		}
		if !strings.HasSuffix(tg["__address__"], ":80") {
			t.Fatalf("address %s, want the default port 80", tg["__address__"])
		}
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"ftp url", func(a *Arguments) { a.URL = "ftp://x" }, "scheme must be http or https"},
		{"no host", func(a *Arguments) { a.URL = "http:///x" }, "host is missing"},
		{"no query", func(a *Arguments) { a.Query = "" }, "query must be set"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.URL, a.Query = "http://puppetdb:8080", pql
			tc.mod(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDocExampleDecodes(t *testing.T) {
	// Alloy's docs example.
	src := `
discovery.puppetdb "example" {
    url   = "http://puppetdb.local:8080"
    query = "resources { type = \"Package\" and title = \"node_exporter\" }"
    port  = 9100
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.puppetdb", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Query != pql || sd.Port != 9100 || time.Duration(sd.RefreshInterval) != time.Minute {
		t.Fatalf("converted %+v", sd)
	}
}
