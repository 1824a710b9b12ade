package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/robinscreen/robinscreen/internal/proccpu"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// stdCodec is gRPC's proto codec, the reference the server's codec must
// agree with.
func stdCodec() encoding.CodecV2 { return encoding.GetCodecV2(protocodec.Name) }

func chunkBytes(t testing.TB) []byte {
	t.Helper()
	b, err := proto.Marshal(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Purpose: pb.Purpose_PURPOSE_BOOKS, Scope: "kampagne",
		WantReceipt: true, Contacts: []*pb.Contact{
			{Ref: "r1", Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv", PostalCode: "2100", Consent: true},
			{Ref: "r2", Name: "Karen Ånd", Phone: "+45 12 34 56 78", Email: "k@example.dk", Cpr: "0101011234", Cvr: "12345678", PNumber: "1000000000", OptedOut: true, ExistingCustomer: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeBoth decodes b into a fresh message of m's type with the server's
// codec and with gRPC's proto codec. It returns the server codec's
// message and mark (0: decoded) and the proto codec's message and error.
func decodeBoth(t testing.TB, m proto.Message, b []byte) (got proto.Message, mark byte, want proto.Message, wantErr error) {
	t.Helper()
	got = m.ProtoReflect().New().Interface()
	if err := newRequestCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(bytes.Clone(b))}, got); err != nil {
		t.Fatalf("server codec: %v", err)
	}
	if u := got.ProtoReflect().GetUnknown(); len(u) > 0 {
		if num, _, n := protowire.ConsumeTag(u); n > 0 && num == malformedField {
			mark = u[len(u)-1]
		}
	}
	want = m.ProtoReflect().New().Interface()
	wantErr = stdCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(bytes.Clone(b))}, want)
	return got, mark, want, wantErr
}

// checkAgree fails unless the server's codec decodes b as gRPC's proto
// codec does: the same message, or, where the proto codec fails, the mark
// of the same kind of failure.
func checkAgree(t testing.TB, m proto.Message, b []byte) {
	t.Helper()
	got, mark, want, wantErr := decodeBoth(t, m, b)
	if wantErr == nil {
		if mark != 0 || !proto.Equal(got, want) {
			t.Fatalf("server codec decoded %v (mark %d), proto codec %v", got, mark, want)
		}
		return
	}
	wantMark := markMalformed
	var u interface{ InvalidUTF8() bool }
	if errors.As(wantErr, &u) && u.InvalidUTF8() {
		wantMark = markUTF8
	}
	if mark != wantMark {
		t.Fatalf("server codec mark %d, want %d (proto codec: %v)", mark, wantMark, wantErr)
	}
}

// TestCodecAgreesWithProto decodes valid and damaged request messages with
// the server's codec and checks each against gRPC's proto codec, and which
// path took it: the fast path (vtprotobuf) or the proto codec.
func TestCodecAgreesWithProto(t *testing.T) {
	valid := chunkBytes(t)
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	contact := func(field []byte) []byte { // field 3: one contact holding field
		return cat(tag(3, protowire.BytesType), protowire.AppendVarint(nil, uint64(len(field))), field)
	}
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(tag(num, protowire.BytesType), s)
	}
	tests := []struct {
		name     string
		msg      []byte
		wantFast bool
	}{
		{"valid chunk", valid, true},
		{"empty message", nil, true},
		{"unknown fields of every wire type", cat(valid, protowire.AppendVarint(tag(90, protowire.VarintType), 7),
			protowire.AppendFixed32(tag(91, protowire.Fixed32Type), 1), protowire.AppendFixed64(tag(92, protowire.Fixed64Type), 2),
			str(93, "x"), tag(94, protowire.StartGroupType), tag(94, protowire.EndGroupType)), true},
		{"unknown field in a contact", cat(valid, contact(str(77, "\xff"))), true},
		{"the scope twice: the last wins", cat(valid, str(4, "anden")), true},
		{"a channel beyond the enum", cat(protowire.AppendVarint(tag(1, protowire.VarintType), 1<<40)), true},
		{"a bool varint above 1", contact(protowire.AppendVarint(tag(9, protowire.VarintType), 300)), true},
		{"non-minimal varint", cat(tag(1, protowire.VarintType), []byte{0x84, 0x80, 0x80, 0x00}), true},
		{"invalid UTF-8 in the scope", cat(valid, str(4, "s\xffope")), false},
		{"invalid UTF-8 in a ref", contact(str(1, "\xc0\xaf")), false},
		{"invalid UTF-8 in a p-number", contact(str(12, "12\xe6")), false},
		{"field number above the largest valid", cat(valid, protowire.AppendVarint(tag(protowire.MaxValidNumber+1, protowire.VarintType), 1)), false},
		{"field number that wraps to the contacts field", cat(protowire.AppendVarint(nil, uint64(1<<32|3)<<3|2), []byte{1, 'x'}), false},
		{"varint of eleven bytes", cat(tag(1, protowire.VarintType), bytes.Repeat([]byte{0xff}, 10), []byte{0x01}), false},
		{"varint overflowing in its tenth byte", cat(tag(1, protowire.VarintType), bytes.Repeat([]byte{0xff}, 9), []byte{0x7f}), false},
		{"known field in another wire type", cat(valid, protowire.AppendVarint(tag(4, protowire.VarintType), 1)), false},
		{"contacts as a varint", protowire.AppendVarint(tag(3, protowire.VarintType), 5), false},
		{"end group without a start", cat(valid, tag(95, protowire.EndGroupType)), false},
		{"length past the end", cat(tag(4, protowire.BytesType), []byte{0x7f, 'x'}), false},
		{"truncated", valid[:len(valid)-3], false},
		{"field number 0", cat([]byte{0x02, 0x00}), false},
		{"unknown field with a tag not in its shortest form", []byte("\xfa\x00\x00"), false},
		{"known field with a tag not in its shortest form", cat(valid, []byte{0xa2, 0x00, 0x01, 'z'}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAgree(t, &pb.ScreenContactsRequest{}, tt.msg)
			var m pb.ScreenContactsRequest
			if fast := fastUnmarshal(mem.BufferSlice{mem.SliceBuffer(bytes.Clone(tt.msg))}, &m); fast != tt.wantFast {
				t.Errorf("fast path took it: %v, want %v", fast, tt.wantFast)
			}
			if !tt.wantFast && !proto.Equal(&m, &pb.ScreenContactsRequest{}) {
				t.Errorf("the fast path refused it but left %v", &m)
			}
		})
	}
}

// TestCodecChecksEveryString puts invalid UTF-8 into each string field,
// found from the descriptors, of every ScreeningService request message
// (and the messages within them), so that a string field added later is
// checked too: each must be refused as invalid UTF-8.
func TestCodecChecksEveryString(t *testing.T) {
	reqs := []proto.Message{&pb.ScreenContactRequest{}, &pb.ScreenContactsRequest{}, &pb.ScreenContactBatchRequest{}}
	for _, req := range reqs {
		if schemaOf(req.ProtoReflect().Descriptor()) == nil {
			t.Errorf("%T: the fast path does not take it", req)
		}
		var paths [][]protoreflect.FieldDescriptor
		var walk func(md protoreflect.MessageDescriptor, prefix []protoreflect.FieldDescriptor)
		walk = func(md protoreflect.MessageDescriptor, prefix []protoreflect.FieldDescriptor) {
			for i := range md.Fields().Len() {
				fd := md.Fields().Get(i)
				p := append(append([]protoreflect.FieldDescriptor(nil), prefix...), fd)
				switch fd.Kind() {
				case protoreflect.StringKind:
					paths = append(paths, p)
				case protoreflect.MessageKind:
					if len(p) < 4 {
						walk(fd.Message(), p)
					}
				}
			}
		}
		walk(req.ProtoReflect().Descriptor(), nil)
		if len(paths) == 0 {
			t.Fatalf("%T: no string fields found", req)
		}
		for _, p := range paths {
			name := fmt.Sprintf("%T", req)
			for _, fd := range p {
				name += "." + string(fd.Name())
			}
			t.Run(name, func(t *testing.T) {
				const placeholder = "PLACEHOLDERxyz"
				m := req.ProtoReflect().New()
				cur := m
				for _, fd := range p[:len(p)-1] {
					if fd.IsList() {
						sub := cur.NewField(fd).List()
						el := sub.NewElement()
						sub.Append(el)
						cur.Set(fd, protoreflect.ValueOfList(sub))
						cur = el.Message()
					} else {
						cur = cur.Mutable(fd).Message()
					}
				}
				cur.Set(p[len(p)-1], protoreflect.ValueOfString(placeholder))
				b, err := proto.Marshal(m.Interface())
				if err != nil {
					t.Fatal(err)
				}
				b = bytes.Replace(b, []byte(placeholder), []byte("PLACEHOLDER\xffyz"), 1)
				got, mark, _, wantErr := decodeBoth(t, req, b)
				if wantErr == nil || mark != markUTF8 {
					t.Errorf("mark %d (message %v), proto codec %v; want both to refuse invalid UTF-8", mark, got, wantErr)
				}
			})
		}
	}
}

// TestSchemaOf checks which messages the fast path takes: proto3 messages
// of scalars, strings, bytes and messages; not messages with a map, a
// repeated scalar (packed) or a oneof, nor messages holding one.
func TestSchemaOf(t *testing.T) {
	tests := []struct {
		name string
		msg  proto.Message
		want bool
	}{
		{"ScreenContactsRequest", &pb.ScreenContactsRequest{}, true},
		{"ScreenContactRequest", &pb.ScreenContactRequest{}, true},
		{"Contact", &pb.Contact{}, true},
		{"DatasetRef (a Timestamp within)", &pb.DatasetRef{}, true},
		{"ScreeningResult (repeated enum: packed)", &pb.ScreeningResult{}, false},
		{"ScreenContactsResponse (holds ScreeningResult)", &pb.ScreenContactsResponse{}, false},
		{"ScreeningReceipt (maps)", &pb.ScreeningReceipt{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := schemaOf(tt.msg.ProtoReflect().Descriptor()) != nil; got != tt.want {
				t.Errorf("schemaOf = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCodecMarshalSameAsProto checks that the server's codec encodes
// responses to the bytes proto.Marshal gives (fields in number order,
// unknown fields last), and a message without the generated methods
// through the proto codec.
func TestCodecMarshalSameAsProto(t *testing.T) {
	published := timestamppb.New(timestamppb.Now().AsTime().Truncate(1e9))
	result := &pb.ScreeningResult{Ref: "r1", Decision: pb.Decision_DECISION_BLOCK,
		Reasons: []pb.Reason{pb.Reason_REASON_ROBINSON_LIST, pb.Reason_REASON_STALE_DATA},
		Findings: []*pb.Finding{{Source: pb.Source_SOURCE_ROBINSON_LIST, Reason: pb.Reason_REASON_ROBINSON_LIST, Decision: pb.Decision_DECISION_BLOCK,
			Detail: "detalje", DatasetVersion: "v1", Robinson: &pb.RobinsonMatch{AddressKind: pb.AddressKind_ADDRESS_KIND_PREVIOUS,
				Name: pb.NameAgreement_NAME_AGREEMENT_NEAR, Street: pb.StreetAgreement_STREET_AGREEMENT_REGISTER, ListLine: 1 << 40}}},
		Datasets: []*pb.DatasetRef{{Kind: "robinson", Version: "v1", Published: published, Stale: true}}}
	withUnknown := proto.Clone(result).(*pb.ScreeningResult)
	withUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 5))
	tests := []struct {
		name string
		msg  any
	}{
		{"stream response", &pb.ScreenContactsResponse{Results: []*pb.ScreeningResult{result, {Ref: "r2", Decision: pb.Decision_DECISION_ALLOW}}}},
		{"receipt response (one map entry each)", &pb.ScreenContactsResponse{Receipt: &pb.ScreeningReceipt{Format: "f", KeyId: "k", IssuedAt: published,
			Nonce: []byte{1, 2}, Decisions: map[string]int64{"BLOCK": 3}, Reasons: map[string]int64{"ROBINSON_LIST": 3},
			Scopes: []*pb.ReceiptScope{{Channel: pb.Channel_CHANNEL_SMS}}, Signature: []byte{9}}}},
		{"unary response", &pb.ScreenContactResponse{Result: result}},
		{"unknown fields", &pb.ScreenContactResponse{Result: withUnknown}},
		{"empty", &pb.ScreenContactBatchResponse{}},
		{"no generated methods (a generic proto message)", timestamppb.New(published.AsTime())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := proto.Marshal(tt.msg.(proto.Message))
			if err != nil {
				t.Fatal(err)
			}
			data, err := newRequestCodec().Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			got := data.Materialize()
			data.Free()
			if !bytes.Equal(got, want) {
				t.Errorf("encoding\n%x\nwant\n%x", got, want)
			}
		})
	}
}

// FuzzCodec checks that the server's codec decodes any request bytes as
// gRPC's proto codec does (checkAgree), for the stream and unary requests.
func FuzzCodec(f *testing.F) {
	f.Add(chunkBytes(f), false)
	f.Add([]byte{0x1a, 0x03, 0x0a, 0x01, 0xff}, false)
	f.Add([]byte{0x1a, 0x04, 0x62, 0x02, 0xc3, 0xa5}, true)
	f.Fuzz(func(t *testing.T, b []byte, unary bool) {
		var m proto.Message = &pb.ScreenContactsRequest{}
		if unary {
			m = &pb.ScreenContactRequest{}
		}
		checkAgree(t, m, b)
	})
}

// BenchmarkCodec measures the server's codec against gRPC's proto codec on
// a ScreenContacts request of 1000 contacts (unmarshal, then the size
// check of the message interceptor) and on the response the service
// answers it with (marshal). Reported per contact, as the process's CPU
// time (garbage collection included; steadier than ns/op on a shared
// machine).
func BenchmarkCodec(b *testing.B) {
	svc, req := benchChunk(b, true)
	in, err := proto.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := svc.screenChunk(context.Background(), new(batchBuffers), req)
	if err != nil {
		b.Fatal(err)
	}
	codecs := []struct {
		name  string
		codec encoding.CodecV2
		size  func(proto.Message) int
		reuse bool // decode into the same request each time, as a stream does
	}{
		{"proto", stdCodec(), proto.Size, false},
		{"server", newRequestCodec(), func(m proto.Message) int { return m.(vtMarshaler).SizeVT() }, false},
		{"server-stream", newRequestCodec(), func(m proto.Message) int { return m.(vtMarshaler).SizeVT() }, true},
	}
	for _, c := range codecs {
		b.Run("unmarshal-request/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := proccpu.Seconds()
			r := new(pb.ScreenContactsRequest)
			for b.Loop() {
				if !c.reuse {
					r = new(pb.ScreenContactsRequest)
				}
				if err := c.codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(in)}, r); err != nil || len(r.Contacts) != 1000 {
					b.Fatal(err)
				}
				if c.size(r) > MaxMessageBytes {
					b.Fatal("too large")
				}
			}
			b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(b.N*1000), "cpu-ns/contact")
		})
		if c.reuse {
			continue
		}
		b.Run("marshal-response/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := proccpu.Seconds()
			for b.Loop() {
				data, err := c.codec.Marshal(resp)
				if err != nil {
					b.Fatal(err)
				}
				data.Free()
			}
			b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(b.N*1000), "cpu-ns/contact")
		})
	}
}

// TestCodecReusesContacts decodes messages one after another into the same
// request, as a ScreenContacts stream does: each must decode to exactly
// what a fresh message gives, nothing of the message before left in a
// contact, and the contacts of the first are used again when there is
// room.
func TestCodecReusesContacts(t *testing.T) {
	full := &pb.Contact{Ref: "a", Name: "Søren Testesen", Address: "Fiktivvej 12", PostalCode: "2100", Cpr: "0101011234", Cvr: "12345678",
		Phone: "+45 12345678", Email: "s@example.dk", PNumber: "1000000000", Consent: true, ExistingCustomer: true, OptedOut: true}
	small := &pb.Contact{Ref: "b"}
	msg := func(scope string, cs ...*pb.Contact) []byte {
		b, err := proto.Marshal(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Scope: scope, Contacts: cs})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name      string
		msgs      [][]byte
		wantReuse bool // the last message's contacts are the first's
	}{
		{"full contacts, then fewer small ones", [][]byte{msg("x", full, full, full), msg("", small, small)}, true},
		{"small, then more full ones", [][]byte{msg("", small), msg("y", full, full)}, false},
		{"then a message without contacts", [][]byte{msg("", full, full), msg("z")}, false},
		{"then an invalid message, then a valid one", [][]byte{msg("", full, full), {0x1a, 0x03, 0x0a, 0x01, 0xff}, msg("", small)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codec := newRequestCodec()
			req := new(pb.ScreenContactsRequest)
			var first *pb.Contact
			for i, b := range tt.msgs {
				if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(bytes.Clone(b))}, req); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = req.Contacts[0]
				}
				_, mark, want, wantErr := decodeBoth(t, &pb.ScreenContactsRequest{}, b)
				if wantErr != nil {
					if mark == 0 {
						t.Errorf("message %d: not refused", i)
					}
					continue
				}
				if !proto.Equal(req, want) {
					t.Errorf("message %d decoded into the same request: %v, want %v", i, req, want)
				}
			}
			if reused := len(req.Contacts) > 0 && req.Contacts[0] == first; reused != tt.wantReuse {
				t.Errorf("contacts reused: %v, want %v", reused, tt.wantReuse)
			}
		})
	}
}

// TestCodecOtherServicesUseProto: the messages of the other services keep
// the proto codec both ways, though they have the generated methods too:
// a response string that is not valid UTF-8 fails to encode as before, and
// a request is never taken by the fast path.
func TestCodecOtherServicesUseProto(t *testing.T) {
	tests := []struct {
		name string
		msg  proto.Message
	}{
		{"dataset: a refused load", &pb.RefusedLoad{SourceName: "liste-\xff.txt"}},
		{"suppression: a removal", &pb.RemoveSuppressionRequest{Email: "a@\xffexample.dk"}},
		{"receipt key", &pb.GetReceiptKeyResponse{KeyId: "k\xff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newRequestCodec().Marshal(tt.msg); err == nil {
				t.Error("a string that is not valid UTF-8 was encoded; the proto codec refuses it")
			}
			if _, err := proto.Marshal(tt.msg); err == nil {
				t.Fatal("proto.Marshal took invalid UTF-8")
			}
			tt.msg.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
				if fd.Kind() == protoreflect.StringKind {
					tt.msg.ProtoReflect().Set(fd, protoreflect.ValueOfString("gyldig"))
				}
				return true
			})
			b, err := proto.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			m := tt.msg.ProtoReflect().New().Interface()
			if fastUnmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, m) {
				t.Error("the fast path took a message of another service")
			}
			checkAgree(t, tt.msg, b)
		})
	}
}
