package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/server/gateway"
)

// boundMethods returns every method of the robinscreen.v1 services that
// has a google.api.http binding, with its HTTP verb and path.
func boundMethods(t *testing.T) map[protoreflect.MethodDescriptor][2]string {
	t.Helper()
	out := map[protoreflect.MethodDescriptor][2]string{}
	for _, fd := range []protoreflect.FileDescriptor{pb.File_robinscreen_v1_screening_proto, pb.File_robinscreen_v1_dataset_proto, pb.File_robinscreen_v1_suppression_proto} {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				md := sd.Methods().Get(j)
				rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
				switch {
				case rule.GetPost() != "":
					out[md] = [2]string{"post", rule.GetPost()}
				case rule.GetGet() != "":
					out[md] = [2]string{"get", rule.GetGet()}
				case rule != nil:
					t.Fatalf("%s: a binding this test does not know", md.FullName())
				}
			}
		}
	}
	return out
}

type jsonObj = map[string]any

func obj(v any) jsonObj { m, _ := v.(jsonObj); return m }

// checkSchema reports every field of md (and of the messages it holds)
// that the schema does not name, and every enum value its enum schemas do
// not list.
func checkSchema(t *testing.T, defs jsonObj, schema jsonObj, md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) {
	t.Helper()
	if seen[md.FullName()] {
		return
	}
	seen[md.FullName()] = true
	schema = resolve(defs, schema)
	props := obj(schema["properties"])
	for i := range md.Fields().Len() {
		f := md.Fields().Get(i)
		name := string(f.Name())
		p := obj(props[name])
		if p == nil {
			t.Errorf("OpenAPI: %s has no property %q", md.FullName(), name)
			continue
		}
		if f.IsList() {
			p = obj(p["items"])
		}
		switch {
		case f.Kind() == protoreflect.MessageKind && !strings.HasPrefix(string(f.Message().FullName()), "google.protobuf."):
			checkSchema(t, defs, p, f.Message(), seen)
		case f.Kind() == protoreflect.EnumKind:
			listed := map[string]bool{}
			names, _ := resolve(defs, p)["enum"].([]any)
			for _, v := range names {
				s, _ := v.(string)
				listed[s] = true
			}
			vals := f.Enum().Values()
			for k := range vals.Len() {
				if !listed[string(vals.Get(k).Name())] {
					t.Errorf("OpenAPI: enum %s lacks %s", f.Enum().FullName(), vals.Get(k).Name())
				}
			}
		}
	}
}

// resolve follows a local $ref.
func resolve(defs jsonObj, schema jsonObj) jsonObj {
	if ref, ok := schema["$ref"].(string); ok {
		return obj(defs[strings.TrimPrefix(ref, "#/definitions/")])
	}
	return schema
}

// TestOpenAPI: GET /v1/openapi.json serves the embedded document; it is a
// valid OpenAPI 2.0 document (converted to 3.0 and validated by
// kin-openapi), has the paths the API fixes, and names every field of the
// request and response messages of every bound method and every value of
// their enums.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t, envOpts{tokens: true})
	code, header, doc := e.do(t, "GET", gateway.OpenAPIPath, "", "") // no token needed
	if code != http.StatusOK || header.Get("Content-Type") != "application/json" {
		t.Fatalf("HTTP %d %s: %s", code, header.Get("Content-Type"), doc)
	}
	if !bytes.Equal(doc, gateway.OpenAPI()) {
		t.Error("the served document is not the embedded one")
	}

	var v2 openapi2.T
	if err := json.Unmarshal(doc, &v2); err != nil {
		t.Fatalf("not an OpenAPI 2.0 document: %v", err)
	}
	v3, err := openapi2conv.ToV3(&v2)
	if err != nil {
		t.Fatalf("conversion to OpenAPI 3: %v", err)
	}
	if err := v3.Validate(context.Background()); err != nil {
		t.Errorf("invalid OpenAPI document: %v", err)
	}

	var raw jsonObj
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["swagger"] != "2.0" {
		t.Errorf("swagger = %v", raw["swagger"])
	}
	paths, defs := obj(raw["paths"]), obj(raw["definitions"])
	// The paths docs/api.md fixes, each required once its method exists.
	for _, fixed := range []struct{ verb, path, method string }{
		{"post", "/v1/contacts:screen", "robinscreen.v1.ScreeningService.ScreenContact"},
		{"post", "/v1/contacts:screenBatch", "robinscreen.v1.ScreeningService.ScreenContactBatch"},
		{"get", "/v1/datasets", "robinscreen.v1.DatasetService.GetDatasetStatus"},
		{"post", "/v1/suppressions", "robinscreen.v1.SuppressionService.AddSuppressions"},
		{"post", "/v1/suppressions:check", "robinscreen.v1.SuppressionService.CheckSuppressions"},
	} {
		if _, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(fixed.method)); err != nil {
			continue // not built yet
		}
		if obj(obj(paths[fixed.path])[fixed.verb]) == nil {
			t.Errorf("no %s %s although %s exists: give it that google.api.http option, run scripts/gen-proto.sh and register its service in gateway.New",
				fixed.verb, fixed.path, fixed.method)
		}
		// Routed to the server, whose token check answers (no token).
		if code, _, body := e.do(t, strings.ToUpper(fixed.verb), fixed.path, "", ""); code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: HTTP %d, want 401 from the server (is its service registered in gateway.New?): %s",
				fixed.verb, fixed.path, code, body)
		}
	}
	t.Run("flat form", func(t *testing.T) {
		op := obj(obj(paths["/v1/channels/{channel}/contacts:screen"])["post"])
		if op == nil {
			t.Fatal("no post /v1/channels/{channel}/contacts:screen")
		}
		in := map[string]jsonObj{}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			p := obj(p)
			name, _ := p["name"].(string)
			where, _ := p["in"].(string)
			in[where+" "+name] = p
		}
		if in["path channel"] == nil || in["query purpose"] == nil || in["body contact"] == nil {
			t.Fatalf("parameters %v, want path channel, query purpose, body contact", in)
		}
		checkSchema(t, defs, obj(in["body contact"]["schema"]), (&pb.Contact{}).ProtoReflect().Descriptor(), map[protoreflect.FullName]bool{})
	})
	bound := boundMethods(t)
	if len(bound) < 3 {
		t.Fatalf("%d bound methods", len(bound))
	}
	for md, vp := range bound {
		t.Run(string(md.Name()), func(t *testing.T) {
			op := obj(obj(paths[vp[1]])[vp[0]])
			if op == nil {
				t.Fatalf("no operation %s %s", vp[0], vp[1])
			}
			var body jsonObj
			var query []string
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				switch p := obj(p); p["in"] {
				case "body":
					body = obj(p["schema"])
				case "query":
					query = append(query, p["name"].(string))
				}
			}
			in := md.Input()
			switch {
			case body != nil:
				checkSchema(t, defs, body, in, map[protoreflect.FullName]bool{})
			case in.Fields().Len() > len(query):
				t.Errorf("request %s has %d fields, the operation %d query parameters", in.FullName(), in.Fields().Len(), len(query))
			}
			out := obj(obj(obj(op["responses"])["200"])["schema"])
			checkSchema(t, defs, out, md.Output(), map[protoreflect.FullName]bool{})
			if obj(obj(op["responses"])["default"])["schema"] == nil {
				t.Error("no error schema (google.rpc.Status)")
			}
		})
	}
}
