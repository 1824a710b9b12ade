package gateway

import (
	"context"
	_ "embed"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/server"
	gw "github.com/robinscreen/robinscreen/server/gateway/gen/robinscreen/v1"
)

// MaxBodyBytes is the largest HTTP request body accepted; a larger one gets
// RESOURCE_EXHAUSTED (HTTP 413) with an ErrorInfo MESSAGE_TOO_LARGE. JSON is
// bigger than the protobuf message it decodes to, which the server then
// limits to server.MaxMessageBytes.
const MaxBodyBytes = 4 * server.MaxMessageBytes

// OpenAPIPath is where the OpenAPI document is served.
const OpenAPIPath = "/v1/openapi.json"

// openAPI is the OpenAPI (Swagger 2.0) document generated from the .proto
// files by scripts/gen-proto.sh.
//
//go:embed robinscreen.swagger.json
var openAPI []byte

// OpenAPI returns the OpenAPI (Swagger 2.0) JSON document served at
// OpenAPIPath.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// marshaler encodes and decodes JSON with the field names of the .proto
// files (postal_code, dataset_version; requests may also use the lowerCamel
// names), enums by name, every field present in responses, and refuses
// unknown fields: a misspelt "opted_out" must not be dropped silently.
var marshaler = &runtime.JSONPb{
	MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
	UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
}

// New returns the HTTP handler of the gateway: the generated routes of
// ScreeningService, DatasetService and SuppressionService, forwarded over conn (a connection to
// the in-process server's LocalListener), and GET OpenAPIPath. log receives
// the gateway's own faults, never request content. It returns the error of
// registering a generated handler.
func New(conn grpc.ClientConnInterface, log *slog.Logger) (http.Handler, error) {
	return newHandler(conn, log, MaxBodyBytes)
}

// newHandler is New with a body limit of maxBody bytes.
func newHandler(conn grpc.ClientConnInterface, log *slog.Logger, maxBody int64) (http.Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, marshaler),
		// Of the request's headers only Authorization (which grpc-gateway
		// always passes on as "authorization") becomes metadata, besides the
		// x-forwarded-host and x-forwarded-for grpc-gateway always adds and
		// the server does not read: no Grpc-Metadata-* header can pose as the
		// forwarded client (forwardClient) or anything else.
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithOutgoingTrailerMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithMetadata(forwardClient),
		runtime.WithErrorHandler(errorHandler(log)),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
		runtime.WithDisableHTTPMethodOverride(),
	)
	ctx := context.Background()
	if err := gw.RegisterScreeningServiceHandlerClient(ctx, mux, pb.NewScreeningServiceClient(conn)); err != nil {
		return nil, err
	}
	if err := gw.RegisterDatasetServiceHandlerClient(ctx, mux, pb.NewDatasetServiceClient(conn)); err != nil {
		return nil, err
	}
	if err := gw.RegisterSuppressionServiceHandlerClient(ctx, mux, pb.NewSuppressionServiceClient(conn)); err != nil {
		return nil, err
	}
	top := http.NewServeMux()
	top.HandleFunc("GET "+OpenAPIPath, serveOpenAPI)
	top.Handle("/", limitBody(mux, maxBody, log))
	return top, nil
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPI)))
	w.Write(openAPI)
}

// forwardClient names the HTTP client for the server's identity (rate limit,
// audit and logs when no token names it): the common name of a verified
// client certificate, else the peer's IP address.
func forwardClient(_ context.Context, r *http.Request) metadata.MD {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		if cn := r.TLS.VerifiedChains[0][0].Subject.CommonName; cn != "" {
			return metadata.Pairs(server.ForwardedClientKey, "cert:"+cn)
		}
	}
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		host = "unknown"
	}
	return metadata.Pairs(server.ForwardedClientKey, "peer:"+host)
}

// limitBody refuses a body announced larger than limit bytes before it is
// read, and cuts one that turns out larger (the decoding then fails and
// errorHandler reports MESSAGE_TOO_LARGE).
func limitBody(next http.Handler, limit int64, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeStatus(w, r, log, bodyTooLarge())
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}
