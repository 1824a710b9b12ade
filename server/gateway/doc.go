// Package gateway is the HTTP/JSON face of the gRPC services, for clients
// that cannot speak gRPC (CRM workflows, scripts): the routes are generated
// from the google.api.http options of the .proto files (grpc-gateway, code
// in gen/), the OpenAPI document from the same files (protoc-gen-openapiv2,
// robinscreen.swagger.json, served as GET /v1/openapi.json).
//
// The handler New returns forwards every call over a gRPC connection to the
// server in the same process (server.LocalListener), so the call passes the
// same interceptors as a gRPC call: bearer token (the HTTP Authorization
// header), role, rate limit, message limit, audit and metrics. The HTTP
// client's address or verified certificate name is forwarded as
// server.ForwardedClientKey; of the other request headers only
// Authorization becomes gRPC metadata (grpc-gateway's own x-forwarded-host
// and x-forwarded-for aside, which the server does not read).
//
// Every error is a google.rpc.Status as JSON with an ErrorInfo (domain
// robinscreen.v1): the server's own, or one added here for the errors the
// HTTP layer finds itself (a body that is not JSON of the request message,
// an unknown field, an unknown path, a body over MaxBodyBytes). Messages of
// those never quote the request body, which may hold personal data.
//
// The package is transport only: it calls no domain code directly.
package gateway
