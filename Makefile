# BrokerSync build and test targets. `make test` is what CI runs.
SHELL := /bin/bash
GO    ?= go
PKGS  ?= ./...
RUN_DIR ?= $(CURDIR)/.run
export BROKERSYNC_RUN_DIR := $(RUN_DIR)

.PHONY: all build serve test test-short lint lint-deploy vet services-start services-stop cassandra

all: build

build:
	$(GO) build -o bin/brokersync ./cmd/brokersync

# Run BrokerSync on the embedded store.
serve:
	$(GO) run ./cmd/brokersync serve

# The full suite against real PostgreSQL, Cassandra and Dovecot: installs
# what is missing, starts them on loopback, runs vet and the race-enabled
# tests with the backend tests required, and stops what it started.
test:
	scripts/services.sh start
	set -o pipefail; trap 'scripts/services.sh stop' EXIT; \
	  source "$(RUN_DIR)/env" && export BROKERSYNC_REQUIRE_BACKENDS=1 && \
	  $(GO) vet $(PKGS) && \
	  $(GO) test -race -count=1 -timeout 25m $(PKGS) && \
	  scripts/fuzz-short.sh

# Unit tests only; backend tests skip and say so.
test-short:
	$(GO) test -race -short $(PKGS)

vet:
	$(GO) vet $(PKGS)

lint: vet lint-deploy
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

# The deployment files: the compose file against the Compose specification
# and the Kubernetes manifests decoded strictly into the API's types, with
# BrokerSync's own checks (deploy/lint, a module of its own); then the
# kustomization built by kubectl, and docker compose's own check, where
# those are installed.
lint-deploy:
	cd deploy/lint && $(GO) vet . && $(GO) run . -compose ../docker-compose.yml -k8s ../k8s
	@if command -v kubectl >/dev/null; then kubectl kustomize deploy/k8s >/dev/null && echo "deploy/k8s: kustomize build ok"; \
	  else echo "kubectl not installed: kustomize build not checked"; fi
	@if docker compose version >/dev/null 2>&1; then docker compose -f deploy/docker-compose.yml config -q && echo "deploy/docker-compose.yml: docker compose config ok"; \
	  else echo "docker compose not installed: checked by compose-go only"; fi

services-start:
	scripts/services.sh start

services-stop:
	scripts/services.sh stop

# A local Cassandra for development; `make services-stop` stops it.
cassandra:
	scripts/services.sh start cassandra
