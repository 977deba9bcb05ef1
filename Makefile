# The two commands a newcomer needs are `make demo` and `make test`.
GO        ?= go
BIN       := bin/shoal
PKGS      := ./...
# Packages whose goroutines share state: run under the race detector in make test.
RACE_PKGS := ./internal/cluster/... ./internal/scrape/... ./internal/remotewrite/... ./internal/runtime/... ./internal/web/... ./internal/component/...
FUZZTIME  ?= 3m

.PHONY: all build test vet race fuzz demo bench fmt-check clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/shoal

# make test: formatting, vet, every unit and end-to-end test (fuzz seeds
# included), then the race detector on the concurrent packages.
test: fmt-check vet
	$(GO) test -count=1 -timeout 25m $(PKGS)
	$(GO) test -count=1 -race -short -timeout 15m $(RACE_PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

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

clean:
	rm -rf bin data-shoal
