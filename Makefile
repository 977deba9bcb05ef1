# The two commands a newcomer needs are `make demo` and `make test`.
GO        ?= go
BIN       := bin/shoal
PKGS      := ./...
# Packages whose goroutines share state: run under the race detector in make test.
RACE_PKGS := ./internal/cluster/... ./internal/scrape/... ./internal/remotewrite/... ./internal/runtime/... ./internal/web/... ./internal/component/... ./internal/importsource/... ./internal/livedebug/...
FUZZTIME  ?= 3m
# Packages with code behind the shoal_lean build tag (the lean build leaves
# out the libraries whose start-up costs an idle node most memory: sigv4,
# azuread and google_iam, node_exporter's collectors, and the Docker,
# Hetzner, AWS and Kuma discoveries): tested and vetted with the tag too.
LEAN_PKGS := ./cmd/shoal ./internal/remotewrite/... ./internal/component/prometheus/remotewrite/... ./internal/component/prometheus/exporter/unix/... ./internal/component/all/...

.PHONY: all build build-lean test test-kube vet race fuzz demo bench bench-scale fmt-check clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/shoal

# The lean build leaves out the libraries whose start-up costs an idle node
# most memory (docs/deploy.md, "The lean build").
build-lean:
	$(GO) build -tags shoal_lean -o $(BIN) ./cmd/shoal

# Packages that start whole fleets of real processes. They run one package
# at a time, so that two fleets never compete for this machine's two cores
# (a starved node is a slow node, and the figures would measure the machine).
FLEET_PKGS := ./e2e/... ./internal/demo/...

# The Kubernetes tests are a Go module of their own (e2e/kube), so that
# k8s.io/kubernetes, which they start an API server from, never enters
# shoal's go.mod. Its first build takes several minutes.
KUBE_MOD := e2e/kube

# make test: formatting, vet, every unit test (fuzz seeds included), the
# end-to-end fleets, the tests against a real API server, then the race
# detector on the concurrent packages.
test: fmt-check vet
	$(GO) test -count=1 -timeout 20m $$($(GO) list $(PKGS) | grep -v -e /e2e -e /internal/demo)
	$(GO) test -count=1 -timeout 10m -tags shoal_lean $(LEAN_PKGS)
	$(GO) test -count=1 -p 1 -timeout 30m $(FLEET_PKGS)
	cd $(KUBE_MOD) && $(GO) test -count=1 -p 1 -timeout 20m ./...
	$(GO) test -count=1 -race -short -timeout 15m $(RACE_PKGS)

# make test-kube: only the tests against a real API server.
test-kube:
	cd $(KUBE_MOD) && $(GO) test -count=1 -p 1 -timeout 20m ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	cd $(KUBE_MOD) && $(GO) vet ./...
	$(GO) vet -tags shoal_lean $(LEAN_PKGS)

# make fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

demo: build
	./$(BIN) demo

bench: build
	bash bench/run.sh

# make bench-scale: make bench plus the scale series, 30k to 3M active
# series per node for shoal, vmagent and Prometheus agent (about 40 more minutes).
bench-scale: build
	BENCH_SCALE=1 bash bench/run.sh

clean:
	rm -rf bin data-shoal
