package alloyjson_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/syntax/alloyjson"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// compact re-indents want so that tests can be written readably.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("bad JSON in test: %v\n%s", err, s)
	}
	return b.String()
}

func TestMarshalValue(t *testing.T) {
	recv := sample.ReceiverFunc(func(context.Context, *sample.Batch) error { return nil })
	exported, _ := value.Encode(struct {
		R sample.Receiver `alloy:"r,attr"`
	}{recv}).Key("r")
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"null", nil, `{"type":"null"}`},
		{"int", 1, `{"type":"number","value":1}`},
		{"float", 2.5, `{"type":"number","value":2.5}`},
		{"big uint", uint64(math.MaxUint64), `{"type":"number","value":18446744073709551615}`},
		{"nan", math.NaN(), `{"type":"number","value":"NaN"}`},
		{"string", "x", `{"type":"string","value":"x"}`},
		{"empty string", "", `{"type":"string","value":""}`},
		{"bool false", false, `{"type":"bool","value":false}`},
		{"array", []any{1, "a"}, `{"type":"array","value":[{"type":"number","value":1},{"type":"string","value":"a"}]}`},
		{"empty array", []string{}, `{"type":"array","value":[]}`},
		{"object keys sorted", map[string]int{"b": 2, "a": 1},
			`{"type":"object","value":[{"key":"a","value":{"type":"number","value":1}},{"key":"b","value":{"type":"number","value":2}}]}`},
		{"duration", 90 * time.Second, `{"type":"string","value":"1m30s"}`},
		{"size", types.Size(10 << 20), `{"type":"string","value":"10MiB"}`},
		{"function", strings.ToUpper, `{"type":"function","value":"function"}`},
		{"capsule", exported, `{"type":"capsule","value":"capsule(\"sample.Receiver\")"}`},
		{"secret", types.Secret("hunter2"), `{"type":"capsule","value":"(secret)"}`},
		{"optional secret", types.OptionalSecret{IsSecret: true, Value: "hunter2"}, `{"type":"capsule","value":"(secret)"}`},
		{"optional non-secret", types.OptionalSecret{Value: "admin"}, `{"type":"string","value":"admin"}`},
	}
	for _, tt := range tests {
		got, err := alloyjson.MarshalValue(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

type basicAuth struct {
	Username string       `alloy:"username,attr,optional"`
	Password types.Secret `alloy:"password,attr,optional"`
}

type queueConfig struct {
	MaxShards int `alloy:"max_shards,attr,optional"`
}

type endpoint struct {
	Name        string            `alloy:",label"`
	URL         string            `alloy:"url,attr"`
	Headers     map[string]string `alloy:"headers,attr,optional"`
	BasicAuth   *basicAuth        `alloy:"basic_auth,block,optional"`
	QueueConfig queueConfig       `alloy:"queue_config,block,optional"`
}

type args struct {
	Timeout   time.Duration `alloy:"timeout,attr,optional"`
	Enabled   bool          `alloy:"enabled,attr,optional"`
	Endpoints []endpoint    `alloy:"endpoint,block,optional"`
	Untagged  string
}

func TestMarshalBody(t *testing.T) {
	a := args{
		Timeout: 30 * time.Second,
		Endpoints: []endpoint{
			{Name: "a", URL: "http://127.0.0.1/write", BasicAuth: &basicAuth{Username: "u", Password: "hunter2"}},
			{URL: "http://127.0.0.2/write", Headers: map[string]string{"X": "1"}},
		},
	}
	got, err := alloyjson.MarshalBody(&a)
	if err != nil {
		t.Fatal(err)
	}
	want := compact(t, `[
		{"name": "timeout", "type": "attr", "value": {"type": "string", "value": "30s"}},
		{"name": "enabled", "type": "attr", "value": {"type": "bool", "value": false}},
		{"name": "endpoint", "type": "block", "label": "a", "body": [
			{"name": "url", "type": "attr", "value": {"type": "string", "value": "http://127.0.0.1/write"}},
			{"name": "headers", "type": "attr", "value": {"type": "null"}},
			{"name": "basic_auth", "type": "block", "body": [
				{"name": "username", "type": "attr", "value": {"type": "string", "value": "u"}},
				{"name": "password", "type": "attr", "value": {"type": "capsule", "value": "(secret)"}}
			]},
			{"name": "queue_config", "type": "block", "body": [
				{"name": "max_shards", "type": "attr", "value": {"type": "number", "value": 0}}
			]}
		]},
		{"name": "endpoint", "type": "block", "body": [
			{"name": "url", "type": "attr", "value": {"type": "string", "value": "http://127.0.0.2/write"}},
			{"name": "headers", "type": "attr", "value": {"type": "object", "value": [{"key": "X", "value": {"type": "string", "value": "1"}}]}},
			{"name": "queue_config", "type": "block", "body": [
				{"name": "max_shards", "type": "attr", "value": {"type": "number", "value": 0}}
			]}
		]}
	]`)
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(string(got), "hunter2") {
		t.Fatal("secret leaked")
	}
}

type targetInfo struct {
	Job                string            `alloy:"job,attr"`
	URL                string            `alloy:"url,attr"`
	Health             string            `alloy:"health,attr"`
	Labels             map[string]string `alloy:"labels,attr"`
	LastScrape         time.Time         `alloy:"last_scrape,attr"`
	LastScrapeDuration time.Duration     `alloy:"last_scrape_duration,attr,optional"`
	LastError          string            `alloy:"last_error,attr,optional"`
}

type namedInfo struct {
	Job string `alloy:"job,attr"`
}

func (namedInfo) AlloyBlockName() string { return "peer" }

func TestMarshalBlocksDebugInfo(t *testing.T) {
	ts := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	infos := []targetInfo{{
		Job: "node", URL: "http://127.0.0.1:9100/metrics", Health: "up",
		Labels: map[string]string{"job": "node", "instance": "127.0.0.1:9100"}, LastScrape: ts,
		LastScrapeDuration: 15 * time.Millisecond,
	}}
	got, err := alloyjson.MarshalBlocks("target", infos)
	if err != nil {
		t.Fatal(err)
	}
	want := compact(t, `[{"name": "target", "type": "block", "body": [
		{"name": "job", "type": "attr", "value": {"type": "string", "value": "node"}},
		{"name": "url", "type": "attr", "value": {"type": "string", "value": "http://127.0.0.1:9100/metrics"}},
		{"name": "health", "type": "attr", "value": {"type": "string", "value": "up"}},
		{"name": "labels", "type": "attr", "value": {"type": "object", "value": [
			{"key": "instance", "value": {"type": "string", "value": "127.0.0.1:9100"}},
			{"key": "job", "value": {"type": "string", "value": "node"}}
		]}},
		{"name": "last_scrape", "type": "attr", "value": {"type": "string", "value": "2025-01-02T03:04:05Z"}},
		{"name": "last_scrape_duration", "type": "attr", "value": {"type": "string", "value": "15ms"}},
		{"name": "last_error", "type": "attr", "value": {"type": "string", "value": ""}}
	]}]`)
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}

	// The same through a struct whose field is the repeated block.
	body, err := alloyjson.MarshalBody(struct {
		Targets []targetInfo `alloy:"target,block,optional"`
	}{infos})
	if err != nil || string(body) != want {
		t.Fatalf("MarshalBody = %s, %v", body, err)
	}

	// And straight from the slice, as components return it.
	direct, err := alloyjson.MarshalBody(infos)
	if err != nil || string(direct) != want {
		t.Fatalf("MarshalBody(slice) = %s, %v", direct, err)
	}
	named, err := alloyjson.MarshalBody([]namedInfo{{Job: "x"}})
	if err != nil || !strings.HasPrefix(string(named), `[{"name":"peer","type":"block"`) {
		t.Fatalf("MarshalBody(named slice) = %s, %v", named, err)
	}

	empty, err := alloyjson.MarshalBlocks("target", []targetInfo(nil))
	if err != nil || string(empty) != "[]" {
		t.Fatalf("empty = %s, %v", empty, err)
	}
}

func TestMarshalBodyOfNothing(t *testing.T) {
	for _, in := range []any{nil, (*args)(nil)} {
		got, err := alloyjson.MarshalBody(in)
		if err != nil || string(got) != "[]" {
			t.Errorf("MarshalBody(%#v) = %s, %v", in, got, err)
		}
	}
	if _, err := alloyjson.MarshalBody(42); err == nil {
		t.Error("a number is not a body")
	}
	got, err := alloyjson.MarshalBody(map[string]any{"b": 1, "a": "x"})
	want := `[{"name":"a","type":"attr","value":{"type":"string","value":"x"}},{"name":"b","type":"attr","value":{"type":"number","value":1}}]`
	if err != nil || string(got) != want {
		t.Errorf("map body = %s, %v", got, err)
	}
}
