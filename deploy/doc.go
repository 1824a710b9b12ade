// Package deploy holds the Kubernetes manifests (base/, a kustomize base)
// and the tests that check them: every manifest decodes strictly into the
// Kubernetes API types, and the essentials of running the service as a
// fleet hold (gRPC probes on the serving port, a non-root security
// context, the disruption budget's selector, a headless Service, Secrets
// mounted read-only). It is a module of its own so that the server's
// module does not depend on the Kubernetes API packages.
//
// The image build test (image_test.go) builds the repository's Dockerfile
// with docker, podman or buildah where one works, and skips where none does.
package deploy
