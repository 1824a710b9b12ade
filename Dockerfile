# syntax=docker/dockerfile:1
# The robinscreen server image: a static binary on distroless/static, run as
# a non-root user, with no shell or package manager at run time. The data
# directory (/data) and the key and certificate files (/etc/robinscreen/...)
# are volumes: nothing the server writes lives in the image.
#
#   docker build -t robinscreen:dev .
#   docker run --rm -p 50051:50051 -v robinscreen-data:/data robinscreen:dev \
#       --listen 0.0.0.0:50051 --insecure --demo
#
# deploy/ holds the Kubernetes manifests that run it as a fleet.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# The module files first, so that the dependency layer is reused while only
# the sources change. The root module builds against the sibling proto/ and
# clients/ modules (replace directives).
COPY go.mod go.sum ./
COPY proto/go.mod proto/go.sum proto/
COPY clients/go.mod clients/go.sum clients/
RUN go mod download
COPY . .
# A static binary: no C library needed at run time.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/robinscreen ./cmd/robinscreen \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
# distroless's nonroot user (UID and GID 65532). The data directory belongs
# to it; Kubernetes' fsGroup does the same for a mounted volume.
COPY --from=build /out/robinscreen /usr/local/bin/robinscreen
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
# gRPC; Prometheus metrics when --metrics-listen 0.0.0.0:9090 is given.
EXPOSE 50051 9090
ENTRYPOINT ["/usr/local/bin/robinscreen", "serve", "--data", "/data"]
