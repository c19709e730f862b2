# BrokerSync build and test targets. `make test` is what CI runs.
SHELL := /bin/bash
GO    ?= go
PKGS  ?= ./...
RUN_DIR ?= $(CURDIR)/.run
export BROKERSYNC_RUN_DIR := $(RUN_DIR)

# The cluster tests' servers live apart from `make test`'s (they stop and
# start them): their own run dir, and a PostgreSQL and a Dovecot of their
# own on these ports.
CLUSTER_RUN_DIR ?= $(CURDIR)/.run-cluster
CLUSTER_PG_PORT ?= 26432
CLUSTER_IMAP_PORT ?= 20143
CLUSTER_SERVICES = BROKERSYNC_RUN_DIR=$(CLUSTER_RUN_DIR) BROKERSYNC_POSTGRES_PORT=$(CLUSTER_PG_PORT) \
	BROKERSYNC_IMAP_PORT=$(CLUSTER_IMAP_PORT) scripts/services.sh

.PHONY: all build serve test test-short test-cluster lint lint-deploy vet services-start services-stop cassandra

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

# The cluster tests (docs/RELIABILITY.md): a 3-node Cassandra cluster on
# 127.0.0.1-3, a PostgreSQL and a Dovecot of their own, started here and
# stopped after; a node of the cluster, then two, then PostgreSQL are
# stopped under a running server, and three replicas are killed in turn
# with a node. Required: a missing server fails them.
test-cluster:
	$(CLUSTER_SERVICES) start cluster postgres dovecot
	set -o pipefail; trap '$(CLUSTER_SERVICES) stop cluster postgres dovecot' EXIT; \
	  source "$(CLUSTER_RUN_DIR)/env" && export BROKERSYNC_REQUIRE_CLUSTER=1 && \
	  $(GO) test -race -count=1 -timeout 30m -run '^TestCluster' -v ./cmd/brokersync/ 2>&1 | \
	    grep -v -e '^time=.* level=\(WARN\|INFO\) ' -e '^=== \(RUN\|PAUSE\|CONT\)'

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
