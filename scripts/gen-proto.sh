#!/usr/bin/env bash
# Regenerates the Go code under proto/ from the .proto files and lints them.
# proto/ is its own Go module (github.com/robinscreen/robinscreen/proto),
# required by the server's module and by the client module (clients/).
# The HTTP/JSON gateway and its OpenAPI document are generated into the
# server's module (server/gateway/), never into proto/: the client module
# must not depend on the gateway's runtime.
# Installs its own pinned tools (buf, protoc-gen-go, protoc-gen-go-grpc,
# protoc-gen-go-vtproto, protoc-gen-grpc-gateway, protoc-gen-openapiv2)
# into .bin/ through the Go module proxy; no protoc is needed.
# protoc-gen-go-vtproto (planetscale/vtprotobuf) adds fast MarshalVT /
# UnmarshalVT / SizeVT methods (*_vtproto.pb.go) that the server's codec
# uses (server/codec.go); its runtime helpers are a small module the proto
# module then requires. Its version here and in proto/go.mod must agree
# (the pseudo-version google.golang.org/grpc already brings into the
# module graph, so that requiring it changes no other version). The two google/api files that define
# the google.api.http option are copied from a pinned Go module that ships
# them into proto/.third_party/ (not committed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.bin"
mkdir -p "$bin"
BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.11
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
VTPROTO_VERSION=v0.6.1-0.20240319094008-0393e58bdf10
GATEWAY_VERSION=v2.33.0
# google/api/annotations.proto and http.proto as grpc-gateway v1 shipped
# them (third_party/googleapis); only these two are used.
GOOGLEAPIS_MODULE=github.com/grpc-ecosystem/grpc-gateway@v1.16.0
install() { # name module version
  if [ ! -x "$bin/$1" ] || [ "$(cat "$bin/.$1.version" 2>/dev/null)" != "$3" ]; then
    GOBIN="$bin" go install "$2@$3"
    echo "$3" > "$bin/.$1.version"
  fi
}
install buf github.com/bufbuild/buf/cmd/buf "$BUF_VERSION"
install protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
install protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"
install protoc-gen-go-vtproto github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto "$VTPROTO_VERSION"
install protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway "$GATEWAY_VERSION"
install protoc-gen-openapiv2 github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2 "$GATEWAY_VERSION"
# Downloaded outside any module, so that no go.mod is touched.
gapi_dir=$(GOFLAGS= go -C / mod download -json "$GOOGLEAPIS_MODULE" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$gapi_dir" ]; then
  echo "gen-proto: could not download $GOOGLEAPIS_MODULE" >&2
  exit 1
fi
mkdir -p "$root/proto/.third_party/google/api"
for f in annotations.proto http.proto; do
  cp -f "$gapi_dir/third_party/googleapis/google/api/$f" "$root/proto/.third_party/google/api/$f"
  chmod 0644 "$root/proto/.third_party/google/api/$f"
done
export PATH="$bin:$PATH"
cd "$root/proto"
buf lint
buf generate
go build ./...
(cd "$root" && go build ./server/gateway/...)
if [ "${1:-}" = "--check" ]; then
  # Fails when the committed generated code differs from a fresh generation
  # (or a generated file is not committed).
  git -C "$root" diff --exit-code -- proto/ server/gateway/
  untracked=$(git -C "$root" ls-files --others --exclude-standard -- proto/ server/gateway/)
  if [ -n "$untracked" ]; then
    echo "gen-proto: generated files not committed:" >&2
    echo "$untracked" >&2
    exit 1
  fi
fi
