package aws

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const (
	clusterARN = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
	serviceARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
	taskARN    = "arn:aws:ecs:us-east-1:123456789012:task/prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

// Answers of the ECS API (JSON 1.1, by X-Amz-Target), trimmed to the
// fields the discoverer reads, for one Fargate task of one service.
var ecsAnswers = map[string]string{
	"ListClusters":     `{"clusterArns":["` + clusterARN + `"]}`,
	"DescribeClusters": `{"clusters":[{"clusterArn":"` + clusterARN + `","clusterName":"prod","status":"ACTIVE","tags":[{"key":"env","value":"prod"}]}],"failures":[]}`,
	"ListServices":     `{"serviceArns":["` + serviceARN + `"]}`,
	"DescribeServices": `{"services":[{"serviceArn":"` + serviceARN + `","serviceName":"web","clusterArn":"` + clusterARN + `","status":"ACTIVE","launchType":"FARGATE","tags":[]}],"failures":[]}`,
	"ListTasks":        `{"taskArns":["` + taskARN + `"]}`,
	"DescribeTasks": `{"tasks":[{"taskArn":"` + taskARN + `","clusterArn":"` + clusterARN + `",
  "taskDefinitionArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:3","group":"service:web","launchType":"FARGATE",
  "lastStatus":"RUNNING","desiredStatus":"RUNNING","healthStatus":"HEALTHY","availabilityZone":"us-east-1a",
  "platformFamily":"Linux","platformVersion":"1.4.0",
  "attachments":[{"id":"a1b2c3d4","type":"ElasticNetworkInterface","status":"ATTACHED","details":[
    {"name":"subnetId","value":"subnet-0abc1234"},{"name":"privateIPv4Address","value":"127.0.220.1"}]}],
  "tags":[{"key":"team","value":"shop"}]}],"failures":[]}`,
}

// TestECSRoleFromTheAPI runs the ecs role against a local ECS API with
// static credentials: one target per task, on its private address.
// AWS_ENDPOINT_URL keeps every AWS client of the process (the discoverer
// also makes an EC2 one) on the local server.
func TestECSRoleFromTheAPI(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := r.Header.Get("X-Amz-Target")
		action = action[strings.LastIndexByte(action, '.')+1:]
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, action+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		answer, ok := ecsAnswers[action]
		if !ok || !json.Valid(body) {
			http.Error(w, `{"__type":"InvalidParameterException","message":"unexpected `+action+`"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(answer))
	}))
	defer srv.Close()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_CA_BUNDLE", "")
	os.Unsetenv("AWS_CA_BUNDLE")

	a := DefaultArguments
	a.Role, a.Endpoint, a.Region, a.Port = "ecs", srv.URL, "us-east-1", 8080
	a.AccessKey, a.SecretKey = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	c, rec := discoverytest.Start(t, "discovery.aws.ecs", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		mu.Lock()
		t.Fatalf("health %+v; calls %q", h, calls)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "task", ts[0], map[string]string{
		"__address__":                  "127.0.220.1:8080",
		"__meta_ecs_cluster":           "prod",
		"__meta_ecs_cluster_arn":       clusterARN,
		"__meta_ecs_service":           "web",
		"__meta_ecs_service_arn":       serviceARN,
		"__meta_ecs_task_arn":          taskARN,
		"__meta_ecs_launch_type":       "FARGATE",
		"__meta_ecs_ip_address":        "127.0.220.1",
		"__meta_ecs_subnet_id":         "subnet-0abc1234",
		"__meta_ecs_region":            "us-east-1",
		"__meta_ecs_availability_zone": "us-east-1a",
		"__meta_ecs_health_status":     "HEALTHY",
	})
	mu.Lock()
	defer mu.Unlock()
	for _, call := range calls {
		if !strings.Contains(call, "Credential=AKIAIOSFODNN7EXAMPLE/") {
			t.Errorf("call %q, want it signed with the static access key", call)
		}
	}
}
