package eureka

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// appsXML is an answer to GET /eureka/v2/apps in Eureka's REST format.
const appsXML = `<applications>
  <versions__delta>1</versions__delta>
  <apps__hashcode>UP_2_</apps__hashcode>
  <application>
    <name>META-SERVICE</name>
    <instance>
      <instanceId>meta01.example:meta-service:8080</instanceId>
      <hostName>127.0.80.1</hostName>
      <app>META-SERVICE</app>
      <ipAddr>127.0.80.1</ipAddr>
      <status>UP</status>
      <overriddenstatus>UNKNOWN</overriddenstatus>
      <port enabled="true">8080</port>
      <securePort enabled="false">8443</securePort>
      <countryId>1</countryId>
      <dataCenterInfo class="com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo">
        <name>MyOwn</name>
      </dataCenterInfo>
      <metadata>
        <project>meta</project>
        <management.port>8090</management.port>
      </metadata>
      <homePageUrl>http://127.0.80.1:8080/</homePageUrl>
      <statusPageUrl>http://127.0.80.1:8080/info</statusPageUrl>
      <healthCheckUrl>http://127.0.80.1:8080/health</healthCheckUrl>
      <vipAddress>meta-service</vipAddress>
      <secureVipAddress>meta-service</secureVipAddress>
      <isCoordinatingDiscoveryServer>false</isCoordinatingDiscoveryServer>
      <actionType>ADDED</actionType>
    </instance>
    <instance>
      <instanceId>meta02</instanceId>
      <hostName>127.0.80.2</hostName>
      <app>META-SERVICE</app>
      <ipAddr>127.0.80.2</ipAddr>
      <status>DOWN</status>
      <countryId>1</countryId>
    </instance>
  </application>
</applications>`

func TestInstancesFromTheAppsList(t *testing.T) {
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/eureka/v2/apps" {
			path = r.URL.Path
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte(appsXML))
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Server = srv.URL + "/eureka/v2"
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.eureka.test", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v (unexpected path %q)", h, path)
	}
	ts, _ := rec.Targets()
	got := discoverytest.ByAddress(ts)
	discoverytest.ExpectLabels(t, "meta01", got["127.0.80.1:8080"], map[string]string{
		"instance":                                            "meta01.example:meta-service:8080",
		"__meta_eureka_app_name":                              "META-SERVICE",
		"__meta_eureka_app_instance_hostname":                 "127.0.80.1",
		"__meta_eureka_app_instance_status":                   "UP",
		"__meta_eureka_app_instance_port":                     "8080",
		"__meta_eureka_app_instance_port_enabled":             "true",
		"__meta_eureka_app_instance_secure_port":              "8443",
		"__meta_eureka_app_instance_secure_port_enabled":      "false",
		"__meta_eureka_app_instance_datacenterinfo_name":      "MyOwn",
		"__meta_eureka_app_instance_metadata_project":         "meta",
		"__meta_eureka_app_instance_metadata_management_port": "8090",
		"__meta_eureka_app_instance_healthcheck_url":          "http://127.0.80.1:8080/health",
		"__meta_eureka_app_instance_vip_address":              "meta-service",
	})
	// No port: 80.
	discoverytest.ExpectLabels(t, "meta02", got["127.0.80.2:80"], map[string]string{
		"__meta_eureka_app_instance_status": "DOWN",
	})
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name, server, want string
	}{
		{"empty", "", "needs a scheme and a host"},
		{"no scheme", "eureka:8761", "needs a scheme and a host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Server = tc.server
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDocExampleDecodes(t *testing.T) {
	src := `
discovery.eureka "example" {
  server = "http://eureka.example.com:8761/eureka"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.eureka", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Server != "http://eureka.example.com:8761/eureka" || time.Duration(sd.RefreshInterval) != 30*time.Second {
		t.Fatalf("converted %+v", sd)
	}
}
