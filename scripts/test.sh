#!/usr/bin/env bash
# The one command that runs all tests (see README). Installs what the tests
# need through the project's own scripts: Go modules via the module proxy,
# Node packages via npm for the Node client, PostgreSQL via apt-get
# (scripts/postgres.sh), Debian's chromium for the web page's browser test
# (scripts/chromium.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# The root module (server, tools) and the nested modules: the generated
# gRPC code (proto/) and the Go client library (clients/), which integrators
# import without the server's dependencies. `go test ./...` at the root
# does not enter a nested module, so each is run in its own directory.
# deploy/ checks the Kubernetes manifests against the Kubernetes API types
# (a module of its own so that the server does not depend on k8s.io) and
# builds the container image where docker, podman or buildah works.
modules=(. proto clients deploy)
# PostgreSQL for the shared suppression-list tests (Debian's packages,
# installed and started by the project's own script), unless one is given.
if [ -z "${ROBINSCREEN_TEST_POSTGRES:-}" ]; then
  echo "== postgres"
  source scripts/postgres.sh
  trap pg_stop EXIT
fi
# The call-list web page's browser test (cmd/robinscreen-screen,
# TestWebBrowser) drives Debian's chromium; installed once, skipped where
# it cannot be (the test then skips and says so).
echo "== chromium"
scripts/chromium.sh
echo "== go vet"
for m in "${modules[@]}"; do (cd "$m" && go vet ./...); done
go vet -tags failpoints ./store/ ./cmd/...
echo "== staticcheck"
# Pinned; fetched through the module proxy. A finding kept on purpose is
# silenced where it stands with a //lint:ignore comment giving the reason.
for m in "${modules[@]}"; do (cd "$m" && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...); done
echo "== go test"
for m in "${modules[@]}"; do (cd "$m" && go test -count=1 -timeout 20m ./...); done
echo "== go test -tags failpoints (the crash tests' build of store)"
go test -tags failpoints -count=1 -run TestFailpointTag ./store/
echo "== go test -race (packages with concurrency)"
go test -race -count=1 -timeout 20m ./store/ ./store/suppressbadger/ ./store/suppresspg/ ./suppress/ ./server/ ./server/gateway/ ./screening/ ./ingest/ ./roads/ ./internal/blockbloom/ ./internal/clientsit/ ./internal/progress/
(cd clients && go test -race -count=1 -timeout 20m ./...)
# The server run in-process (Main): open, load, screen, shut down.
go test -race -count=1 -timeout 10m -run 'TestMain' ./cmd/robinscreen/
echo "== fuzz smoke"
scripts/fuzz-smoke.sh 100000
for t in clients/*/test.sh; do
  [ -x "$t" ] || continue
  echo "== $t"
  "$t"
done
