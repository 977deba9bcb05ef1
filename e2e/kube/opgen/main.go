// Command opgen writes, for each fixture of e2e/kube/testdata/golden, the
// scrape_configs that the Prometheus Operator's own generator
// (pkg/prometheus/promcfg.go of its v0.85.0 release, the last the module
// proxy serves) writes for the resources in it. e2e/kube's golden test
// compares shoal's jobs with these files. It is a module of its own because
// the operator's root module pins older Kubernetes and Prometheus modules
// than e2e/kube's.
//
// Run from e2e/kube: go -C opgen run . ../testdata/golden
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"github.com/prometheus-operator/prometheus-operator/pkg/assets"
	"github.com/prometheus-operator/prometheus-operator/pkg/prometheus"
	"gopkg.in/yaml.v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	sigyaml "sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: opgen DIR")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(os.Args[1], "*.input.yaml"))
	if err != nil || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "no fixtures:", err)
		os.Exit(1)
	}
	for _, f := range files {
		out, err := generate(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, err)
			os.Exit(1)
		}
		if err := os.WriteFile(strings.TrimSuffix(f, ".input.yaml")+".operator.yaml", out, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func generate(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	sMons := map[string]*monitoringv1.ServiceMonitor{}
	pMons := map[string]*monitoringv1.PodMonitor{}
	probes := map[string]*monitoringv1.Probe{}
	var objs []interface{}
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var raw map[string]interface{}
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if raw == nil {
			continue
		}
		doc, _ := sigyaml.Marshal(raw)
		switch raw["kind"] {
		case "Secret":
			var s corev1.Secret
			if err := sigyaml.Unmarshal(doc, &s); err != nil {
				return nil, err
			}
			for k, v := range s.StringData {
				if s.Data == nil {
					s.Data = map[string][]byte{}
				}
				s.Data[k] = []byte(v)
			}
			objs = append(objs, &s)
		case "ConfigMap":
			var c corev1.ConfigMap
			if err := sigyaml.Unmarshal(doc, &c); err != nil {
				return nil, err
			}
			objs = append(objs, &c)
		case "ServiceMonitor":
			var m monitoringv1.ServiceMonitor
			if err := sigyaml.UnmarshalStrict(doc, &m); err != nil {
				return nil, err
			}
			sMons[m.Namespace+"/"+m.Name] = &m
		case "PodMonitor":
			var m monitoringv1.PodMonitor
			if err := sigyaml.UnmarshalStrict(doc, &m); err != nil {
				return nil, err
			}
			pMons[m.Namespace+"/"+m.Name] = &m
		case "Probe":
			var m monitoringv1.Probe
			if err := sigyaml.UnmarshalStrict(doc, &m); err != nil {
				return nil, err
			}
			probes[m.Namespace+"/"+m.Name] = &m
		default:
			return nil, fmt.Errorf("kind %v not handled", raw["kind"])
		}
	}
	p := &monitoringv1.Prometheus{ObjectMeta: metav1.ObjectMeta{Name: "golden", Namespace: "monitoring"}}
	// Inline TLS material, as shoal reads it from the Secrets itself (the
	// operator otherwise writes file paths it mounts into the pod).
	cg, err := prometheus.NewConfigGenerator(nil, p, prometheus.WithInlineTLSConfig())
	if err != nil {
		return nil, err
	}
	store := assets.NewTestStoreBuilder(objs...)
	cfg, err := cg.GenerateServerConfiguration(p, sMons, pMons, probes, map[string]*monitoringv1alpha1.ScrapeConfig{}, store, nil, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	var full map[string]interface{}
	if err := yaml.Unmarshal(cfg, &full); err != nil {
		return nil, err
	}
	return yaml.Marshal(map[string]interface{}{"scrape_configs": full["scrape_configs"]})
}
