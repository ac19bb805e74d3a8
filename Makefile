# oci-pack — build, test, demo, bench. `make help` lists targets.
GO      ?= go
BIN     := $(CURDIR)/bin/oci-pack
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
export OCI_PACK_BIN := $(BIN)

.PHONY: help build test unit race vet cross release demo bench fuzz clean interop tools

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/oci-pack
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/oci-pack

vet: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

tools: ## install the interop tools the tests drive (scripts/tools.sh; idempotent)
	scripts/tools.sh >/dev/null

unit: build tools ## Go tests (unit, conformance, CLI end-to-end; some drive the tools: a registry, skopeo)
	$(GO) test -count=1 ./...

race: ## cas and layout tests under the race detector (64 concurrent ingests, concurrent tagging)
	$(GO) test -race -count=1 ./cas/... ./layout/

crash: build ## exhaustive crash sweep: kill -9 at every file syscall, every fault, 1,000 chaos kills (CRASH_SWEEP=full)
	CRASH_SWEEP=full $(GO) test -count=1 -timeout 60m -v ./cmd/oci-pack/reliability/crash/

FUZZTIME ?= 5m
.PHONY: fuzz-short bench-quick
fuzz: ## every native Go fuzz target for FUZZTIME each (default 5m; scripts/fuzz.sh)
	scripts/fuzz.sh $(FUZZTIME)

fuzz-short: ## every fuzz target for 20 s (part of make test)
	scripts/fuzz.sh 20s

interop: build ## oci-pack against skopeo, oras, regctl, crane, umoci, helm, modctl and a registry (scripts/interop.sh)
	scripts/interop.sh

test: vet cross unit race interop fuzz-short bench-quick ## everything CI runs

PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64

cross: ## build and vet (tests included) for every release platform
	@set -e; for p in $(PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; echo "cross: $$p"; \
	  GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build ./... ; \
	  GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) vet ./... ; done

release: ## static binaries for every platform in dist/, with SHA256SUMS
	rm -rf dist && mkdir -p dist
	@set -e; for p in $(PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  echo "release: dist/oci-pack-$$os-$$arch$$ext"; \
	  GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/oci-pack-$$os-$$arch$$ext ./cmd/oci-pack; done
	cd dist && sha256sum oci-pack-* > SHA256SUMS

demo: build ## pack a generated model, export, import, extract, verify
	scripts/demo.sh

bench: ## oci-pack vs the physical floor and peers → BENCHMARKS.md (scripts/bench.sh, ~25 min)
	scripts/bench.sh

bench-quick: ## benchmark harness smoke test (scripts/bench.sh --quick, < 3 min; report in the scratch dir)
	scripts/bench.sh --quick

clean: ## remove build output
	rm -rf bin dist
