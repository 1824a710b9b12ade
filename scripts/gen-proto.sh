#!/usr/bin/env bash
# Regenerates the Go code under proto/ from the .proto files and lints them.
# proto/ is its own Go module (github.com/robinscreen/robinscreen/proto),
# required by the server's module and by the client module (clients/).
# Installs its own pinned tools (buf, protoc-gen-go, protoc-gen-go-grpc) into
# .bin/ through the Go module proxy; no protoc is needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.bin"
mkdir -p "$bin"
BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.11
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
install() { # name module version
  if [ ! -x "$bin/$1" ] || [ "$(cat "$bin/.$1.version" 2>/dev/null)" != "$3" ]; then
    GOBIN="$bin" go install "$2@$3"
    echo "$3" > "$bin/.$1.version"
  fi
}
install buf github.com/bufbuild/buf/cmd/buf "$BUF_VERSION"
install protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
install protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"
export PATH="$bin:$PATH"
cd "$root/proto"
buf lint
buf generate
go build ./...
if [ "${1:-}" = "--check" ]; then
  # Fails when the committed generated code differs from a fresh generation.
  git -C "$root" diff --exit-code -- proto/
fi
