package vm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/alloyjson"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/value"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// FuzzEvaluate parses an expression from the input and evaluates it: the
// evaluator must never panic, whatever the expression, and neither must
// decoding, printing or JSON-encoding its result. The seed corpus is in
// testdata/fuzz/FuzzEvaluate.
func FuzzEvaluate(f *testing.F) {
	for _, seed := range []string{
		`1 + 2 * 3 ^ 2`,
		`[1, "a", true, null, {a = [1.5]}][4].a[0]`,
		`string.format("%s %d %v", "x", 1, [1])`,
		`discovery.file.nodes.targets[0]["job"]`,
		`encoding.from_json("{\"a\": 1}").a`,
		`-9223372036854775808 - 1`,
		`2 ^ 63 * 2`,
		`coalesce(null, "", local.file.token.content)`,
		`!true || 1 / 0 == 0`,
		`json_path("{\"a\": [{\"b\": 1}]}", "$.a[?(@.b == 1)].b")`,
		`array.group_by([{k = "x"}, {k = "y"}, {}], "k", false)`,
		`array.combine_maps([{a = 1}], [{a = 1, b = 2}], ["a"], true)`,
		`encoding.url_decode(encoding.url_encode("a b&c"))`,
		`encoding.to_URLbase64("?>") + file.path_join("a", "..", "b")`,
		`yaml_decode("a: 1") == base64_decode("YQ==")`,
		`18446744073709551615 * 2 - 010 % .5`,
		`constants.version`,
	} {
		f.Add(seed)
	}
	scope := testScope(nil)
	scope.MinStability = stability.Experimental // fuzz every function
	f.Fuzz(func(t *testing.T, src string) {
		expr, err := parser.ParseExpression(src)
		if err != nil {
			return
		}
		var v value.Value
		if err := vm.EvaluateExpr(scope, expr, &v); err != nil {
			_ = err.Error()
			return
		}
		_ = v.String()
		if _, err := alloyjson.MarshalValue(v); err != nil {
			t.Fatalf("MarshalValue(%s): %v", v, err)
		}
		var anyv any
		_ = value.Decode(v, &anyv)
		var args scrapeArgs
		_ = value.Decode(v, &args)
		var strs []string
		_ = value.Decode(v, &strs)
		if strings.Contains(v.String(), "s3cr3t") && !strings.Contains(src, "nonsensitive") {
			t.Fatalf("%q revealed a secret: %s", src, v)
		}
		_ = vm.Traversals(expr)
	})
}

// BenchmarkEvaluate5000Lines parses and evaluates a config of about 5,000
// lines (scrape jobs with nested blocks, remote_write endpoints) into the
// components' tagged structs.
func BenchmarkEvaluate5000Lines(b *testing.B) {
	src := bigConfig(5000)
	if n := strings.Count(src, "\n"); n < 5000 {
		b.Fatalf("config has %d lines", n)
	}
	scope := testScope(nil)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := parser.ParseFile("big.alloy", []byte(src))
		if err != nil {
			b.Fatal(err)
		}
		for _, stmt := range f.Body {
			blk := stmt.(*ast.BlockStmt)
			var target any
			switch blk.GetBlockName() {
			case "prometheus.scrape":
				target = &scrapeArgs{}
			case "prometheus.remote_write":
				target = &remoteWriteArgs{}
			}
			if err := vm.New(blk).Evaluate(scope, target); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestBigConfigEvaluates(t *testing.T) {
	src := bigConfig(500)
	f, err := parser.ParseFile("big.alloy", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, stmt := range f.Body {
		blk := stmt.(*ast.BlockStmt)
		if blk.GetBlockName() != "prometheus.scrape" {
			continue
		}
		var args scrapeArgs
		if err := vm.New(blk).Evaluate(testScope(nil), &args); err != nil {
			t.Fatal(err)
		}
		if len(args.Targets) != 3 || args.HTTPClientConfig.BasicAuth == nil || !args.Clustering.Enabled {
			t.Fatalf("block %s decoded to %+v", blk.Label, args)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no scrape blocks")
	}
}

// bigConfig writes a config of at least lines lines.
func bigConfig(lines int) string {
	var sb strings.Builder
	for i := 0; strings.Count(sb.String(), "\n") < lines; i++ {
		if i%10 == 9 {
			fmt.Fprintf(&sb, `prometheus.remote_write "rw_%d" {
	external_labels = { cluster = "c-%d", region = string.format("r-%%d", %d %% 4) }

	endpoint {
		name           = "primary"
		url            = "http://127.0.0.1:9090/api/v1/write"
		remote_timeout = "30s"
		headers        = { "X-Scope-OrgID" = "tenant-%d" }

		queue_config {
			capacity   = 2500
			max_shards = 20
		}

		write_relabel_config {
			source_labels = ["__name__"]
			regex         = "go_.*"
			action        = "drop"
		}
	}

	wal {
		truncate_frequency = "2h"
		max_size           = "1GiB"
	}
}

`, i, i, i, i)
			continue
		}
		fmt.Fprintf(&sb, `prometheus.scrape "job_%d" {
	targets = array.concat(discovery.file.nodes.targets, [
		{ "__address__" = "10.1.%d.1:9100", "job" = "job-%d" },
	])
	forward_to      = [prometheus.remote_write.default.receiver]
	job_name        = "job-%d"
	scrape_interval = "%ds"
	scrape_timeout  = "5s"
	metrics_path    = "/metrics"
	params          = { "module" = ["http_2xx"], "target" = ["x"] }
	honor_labels    = %v
	sample_limit    = %d * 1000
	body_size_limit = "10MB"

	basic_auth {
		username = "user-%d"
		password = local.file.token.content
	}

	tls_config {
		server_name          = "node-%d.example"
		insecure_skip_verify = false
	}

	clustering {
		enabled = true
	}
}

`, i, i%256, i, i, 10+i%50, i%2 == 0, 1+i%9, i, i)
	}
	return sb.String()
}
