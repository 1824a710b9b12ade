package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"sync/atomic"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// Role is what a token may do.
type Role int

// Roles, each including the ones before it.
const (
	RoleNone   Role = iota
	RoleScreen      // ScreeningService (and reflection)
	RoleAdmin       // also DatasetService
)

// String returns "screen", "admin" or "none".
func (r Role) String() string {
	switch r {
	case RoleScreen:
		return "screen"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// Identity is who made a call. Name is the token name when tokens are
// configured, else the verified client certificate's common name, else the
// peer IP address. It is what the audit log, the logs and the rate limiter
// know of a client.
type Identity struct {
	Name   string
	Source string // "token", "cert" or "peer"
	Role   Role
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity the auth interceptor put into ctx, or,
// when there is none, one derived from the peer ("local" without a peer).
func IdentityFrom(ctx context.Context) Identity {
	if id, ok := ctx.Value(identityKey{}).(Identity); ok {
		return id
	}
	return peerIdentity(ctx, RoleNone)
}

// peerIdentity names the client by its verified certificate or address; for
// a call of the HTTP gateway, by the HTTP client's (ForwardedClientKey).
func peerIdentity(ctx context.Context, role Role) Identity {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Identity{Name: "local", Source: "peer", Role: role}
	}
	if _, ok := p.Addr.(localAddr); ok {
		// The in-process HTTP gateway (LocalListener): the HTTP client.
		return forwardedIdentity(ctx, role)
	}
	if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 && len(ti.State.VerifiedChains[0]) > 0 {
		if cn := ti.State.VerifiedChains[0][0].Subject.CommonName; cn != "" {
			return Identity{Name: cn, Source: "cert", Role: role}
		}
	}
	name := "unknown"
	if p.Addr != nil {
		name = p.Addr.String()
		if host, _, err := net.SplitHostPort(name); err == nil {
			name = host
		}
	}
	return Identity{Name: name, Source: "peer", Role: role}
}

// tokenEntry is one line of the token file.
type tokenEntry struct {
	hash [sha256.Size]byte
	role Role
	name string
}

// Authenticator checks bearer tokens against a token file. The file holds
// SHA-256 hashes only, never tokens; comparison is in constant time over
// every entry. A nil *Authenticator means "no token file": every client may
// call every method.
type Authenticator struct {
	path    string
	entries atomic.Pointer[[]tokenEntry]
}

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// LoadTokenFile reads a token file: one token per line as
//
//	role:sha256hex[:name]
//
// where role is "screen" or "admin", sha256hex the 64 hex digits of the
// SHA-256 of the token (printf %s "$TOKEN" | sha256sum) and name an optional
// label for logs, audit and rate limiting ([A-Za-z0-9._@-], default
// role-HASHPREFIX). Blank lines and lines starting with # are ignored. It
// returns an error naming the line for a malformed line, an unknown role, a
// duplicate hash or name, or a file without any token, and the os error when
// the file cannot be read.
func LoadTokenFile(path string) (*Authenticator, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := parseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	a := &Authenticator{path: path}
	a.entries.Store(&entries)
	return a, nil
}

// ParseTokens is LoadTokenFile on a reader (no reload). It returns the same
// errors.
func ParseTokens(r io.Reader) (*Authenticator, error) {
	entries, err := parseTokens(r)
	if err != nil {
		return nil, err
	}
	a := &Authenticator{}
	a.entries.Store(&entries)
	return a, nil
}

// Reload re-reads the token file LoadTokenFile read; on error the previous
// tokens stay in force and the error is returned.
func (a *Authenticator) Reload() error {
	if a.path == "" {
		return fmt.Errorf("no token file to reload")
	}
	b, err := LoadTokenFile(a.path)
	if err != nil {
		return err
	}
	a.entries.Store(b.entries.Load())
	return nil
}

// Len returns the number of tokens.
func (a *Authenticator) Len() int { return len(*a.entries.Load()) }

func parseTokens(r io.Reader) ([]tokenEntry, error) {
	var out []tokenEntry
	names := map[string]bool{}
	hashes := map[[sha256.Size]byte]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("line %d: want role:sha256hex[:name]", n)
		}
		var e tokenEntry
		switch parts[0] {
		case "screen":
			e.role = RoleScreen
		case "admin":
			e.role = RoleAdmin
		default:
			return nil, fmt.Errorf("line %d: unknown role %q (want screen or admin)", n, parts[0])
		}
		h := strings.ToLower(parts[1])
		if len(h) != 2*sha256.Size {
			return nil, fmt.Errorf("line %d: the hash must be 64 hex digits (the SHA-256 of the token, not the token)", n)
		}
		if _, err := hex.Decode(e.hash[:], []byte(h)); err != nil {
			return nil, fmt.Errorf("line %d: the hash must be 64 hex digits", n)
		}
		e.name = parts[0] + "-" + h[:8]
		if len(parts) == 3 {
			if !tokenNameRE.MatchString(parts[2]) {
				return nil, fmt.Errorf("line %d: name must be 1-64 of [A-Za-z0-9._@-]", n)
			}
			e.name = parts[2]
		}
		if hashes[e.hash] {
			return nil, fmt.Errorf("line %d: duplicate token hash", n)
		}
		if names[e.name] {
			return nil, fmt.Errorf("line %d: duplicate name %q", n, e.name)
		}
		hashes[e.hash], names[e.name] = true, true
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no token in the file")
	}
	return out, nil
}

// HashToken returns the token-file hash of token (lower-case hex SHA-256).
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// lookup returns the entry for token, comparing against every entry in
// constant time.
func (a *Authenticator) lookup(token string) (tokenEntry, bool) {
	h := sha256.Sum256([]byte(token))
	var found tokenEntry
	ok := 0
	for _, e := range *a.entries.Load() {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			found, ok = e, 1
		}
	}
	return found, ok == 1
}

// Access classes of methods.
const (
	accessOpen   = iota // health: load balancers probe without a token
	accessAny           // reflection: any valid token
	accessScreen        // ScreeningService
	accessAdmin         // DatasetService and anything unknown
)

func methodAccess(fullMethod string) (int, Role) {
	switch {
	case strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/"):
		return accessOpen, RoleNone
	case strings.HasPrefix(fullMethod, "/grpc.reflection.v1.ServerReflection/"),
		strings.HasPrefix(fullMethod, "/grpc.reflection.v1alpha.ServerReflection/"):
		return accessAny, RoleScreen
	case strings.HasPrefix(fullMethod, "/"+pb.ScreeningService_ServiceDesc.ServiceName+"/"):
		return accessScreen, RoleScreen
	case fullMethod == pb.SuppressionService_CheckSuppressions_FullMethodName:
		// Checking values is part of screening; the rest of
		// SuppressionService changes or exports the list: admin.
		return accessScreen, RoleScreen
	default:
		return accessAdmin, RoleAdmin
	}
}

// bearer returns the token of an "authorization: Bearer TOKEN" header.
func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return strings.TrimSpace(v[7:])
		}
	}
	return ""
}

// authorize returns ctx with the caller's Identity, or an UNAUTHENTICATED
// or PERMISSION_DENIED status error with an ErrorInfo. With a nil
// Authenticator every caller gets RoleAdmin (open server).
func (a *Authenticator) authorize(ctx context.Context, fullMethod string) (context.Context, error) {
	if a == nil {
		return WithIdentity(ctx, peerIdentity(ctx, RoleAdmin)), nil
	}
	access, need := methodAccess(fullMethod)
	tok := bearer(ctx)
	if tok == "" {
		if access == accessOpen {
			return WithIdentity(ctx, peerIdentity(ctx, RoleNone)), nil
		}
		return ctx, refuse(ReasonUnauthenticated, "missing bearer token (authorization: Bearer TOKEN)",
			map[string]string{"method": fullMethod})
	}
	e, ok := a.lookup(tok)
	if !ok {
		if access == accessOpen {
			return WithIdentity(ctx, peerIdentity(ctx, RoleNone)), nil
		}
		return ctx, refuse(ReasonUnauthenticated, "invalid bearer token",
			map[string]string{"method": fullMethod})
	}
	id := Identity{Name: e.name, Source: "token", Role: e.role}
	if e.role < need {
		return WithIdentity(ctx, id), refuse(ReasonPermissionDenied, "the token's role may not call this method",
			map[string]string{"method": fullMethod, "role": e.role.String(), "required_role": need.String()})
	}
	return WithIdentity(ctx, id), nil
}

// Denier is implemented by auditors that record refused calls (the audit
// log and metrics); reason is the ErrorInfo reason.
type Denier interface {
	Denied(ctx context.Context, method string, code codes.Code, reason string)
}

func authUnary(a *Authenticator, log *slog.Logger, audit Auditor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		ctx, err := a.authorize(ctx, info.FullMethod)
		if err != nil {
			denied(ctx, log, audit, info.FullMethod, err)
			return nil, err
		}
		return h(ctx, req)
	}
}

func authStream(a *Authenticator, log *slog.Logger, audit Auditor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		ctx, err := a.authorize(ss.Context(), info.FullMethod)
		if err != nil {
			denied(ctx, log, audit, info.FullMethod, err)
			return err
		}
		return h(srv, ctxStream{ServerStream: ss, ctx: ctx})
	}
}

// ctxStream replaces a stream's context (to carry the Identity).
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s ctxStream) Context() context.Context { return s.ctx }

// denied logs and audits a refused call: method, code, reason and the
// caller's identity (token name, certificate name or address), never the
// token.
func denied(ctx context.Context, log *slog.Logger, audit Auditor, method string, err error) {
	code, reason := codeAndReason(err)
	id := IdentityFrom(ctx)
	log.LogAttrs(ctx, slog.LevelWarn, "refused", slog.String("method", method), slog.String("code", code.String()),
		slog.String("reason", reason), slog.String("client", id.Name))
	if d, ok := audit.(Denier); ok {
		d.Denied(ctx, method, code, reason)
	}
}

// codeAndReason returns err's code and ErrorInfo reason.
func codeAndReason(err error) (codes.Code, string) {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.Reason
		}
	}
	return st.Code(), st.Code().String()
}
