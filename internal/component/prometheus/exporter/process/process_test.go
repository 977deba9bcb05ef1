package process

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
)

func TestDefaultsAreAlloys(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.process "p" { }`, "prometheus.exporter.process", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.ProcFSPath != "/proc" || !a.Children || !a.Threads || !a.SMaps || a.Recheck || a.RemoveEmptyGroups || len(a.Matchers) != 0 {
		t.Errorf("defaults = %+v", a)
	}
}

func TestEveryArgumentDecodes(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.process "p" {
  procfs_path         = "/host/proc"
  track_children      = false
  track_threads       = false
  gather_smaps        = false
  recheck_on_scrape   = true
  remove_empty_groups = true
  matcher {
    name    = "{{.Comm}}"
    comm    = ["bash", "sh"]
  }
  matcher {
    exe     = ["/usr/bin/sleep"]
    cmdline = ["^sleep", "\\d+"]
  }
}`, "prometheus.exporter.process", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.ProcFSPath != "/host/proc" || a.Children || a.Threads || a.SMaps || !a.Recheck || !a.RemoveEmptyGroups {
		t.Errorf("arguments = %+v", a)
	}
	if len(a.Matchers) != 2 || a.Matchers[0].Name != "{{.Comm}}" || len(a.Matchers[0].CommRules) != 2 ||
		a.Matchers[1].ExeRules[0] != "/usr/bin/sleep" || a.Matchers[1].CmdlineRules[1] != `\d+` {
		t.Errorf("matchers = %+v", a.Matchers)
	}
}

func TestBadMatcherIsAConfigError(t *testing.T) {
	for name, m := range map[string]string{
		"regex":    `cmdline = ["("]`,
		"template": `name = "{{"` + "\n" + `comm = ["x"]`,
		"empty":    `name = "x"`,
	} {
		var a Arguments
		err := discoverytest.Decode(t, "prometheus.exporter.process \"p\" {\n  matcher {\n"+m+"\n  }\n}", "prometheus.exporter.process", nil, &a)
		if err == nil || !strings.Contains(err.Error(), "matcher") {
			t.Errorf("%s: err = %v, want one naming the matcher", name, err)
		}
	}
}

// TestGroupsARealProcess starts a sleep with a distinctive command line and
// scrapes the exporter: the matcher's group counts it.
func TestGroupsARealProcess(t *testing.T) {
	if !Linked {
		t.Skip("process-exporter is not linked into this build")
	}
	cmd := exec.Command("sleep", "61.2345")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.process "p" {
  matcher {
    name    = "labsleep"
    cmdline = ["^sleep 61\\.2345$"]
  }
}`, "prometheus.exporter.process", nil, &a); err != nil {
		t.Fatal(err)
	}
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.process.p")
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	tg := rec.Last().(exporter.Exports).Targets
	if len(tg) != 1 || tg[0]["job"] != "integrations/process" || tg[0]["instance"] != exporter.HostName() {
		t.Errorf("targets = %v", tg)
	}
	w := httptest.NewRecorder()
	c.(*exporter.Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := w.Body.String()
	for _, want := range []string{`namedprocess_namegroup_num_procs{groupname="labsleep"} 1`, `namedprocess_namegroup_memory_bytes{groupname="labsleep",memtype="proportionalResident"}`, "process_exporter_build_info{"} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s:\n%.2000s", want, body)
		}
	}
}

func FuzzMatcherRules(f *testing.F) {
	f.Add("{{.ExeBase}}", "bash", "/usr/bin/sleep", `^sleep\s+\d+`)
	f.Add("", "", "", "(")
	f.Fuzz(func(t *testing.T, name, comm, exe, cmdline string) {
		a := Arguments{Matchers: []MatcherGroup{{Name: name, CommRules: []string{comm}, ExeRules: []string{exe}, CmdlineRules: []string{cmdline}}}}
		_ = a.Validate()
	})
}
