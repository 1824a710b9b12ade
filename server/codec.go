package server

import (
	"errors"
	"sync"
	"unicode/utf8"

	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// requestCodec is the server's codec: gRPC's proto codec, except for a
// request message that does not decode, and faster for the messages that
// have the generated vtprotobuf methods (proto/robinscreen/v1/*_vtproto.pb.go).
//
// Undecodable requests: gRPC answers every Unmarshal error INTERNAL
// without an ErrorInfo, and for a unary call before any interceptor runs;
// so instead the message is emptied and marked (an unknown field no client
// sends), and the message interceptors (limitUnary, limitStream) refuse it
// INVALID_ARGUMENT with an ErrorInfo (reason INVALID_REQUEST). A marked
// message that reached a handler would be an empty request, which
// validation refuses too: never a screening.
//
// Fast path (see fastUnmarshal and Marshal): the wire format is
// protobuf's either way and a message decodes to what the proto codec
// would decode; whatever the fast path cannot vouch for goes to the proto
// codec.
type requestCodec struct{ encoding.CodecV2 }

func newRequestCodec() requestCodec {
	return requestCodec{encoding.GetCodecV2(protocodec.Name)}
}

// vtMarshaler is a message with the generated vtprotobuf marshal methods.
type vtMarshaler interface {
	SizeVT() int
	MarshalToSizedBufferVT(dAtA []byte) (int, error)
}

// vtUnmarshaler is a message with the generated vtprotobuf unmarshal
// method whose string and bytes fields alias the input.
type vtUnmarshaler interface {
	proto.Message
	UnmarshalVTUnsafe(dAtA []byte) error
}

// Marshal encodes a ScreeningService message (screeningMessage) with its
// generated vtprotobuf methods (the same bytes as proto.Marshal: fields
// in number order, unknown fields last), into a buffer from gRPC's pool as
// the proto codec does; other messages go to the proto codec. It returns
// the proto codec's errors.
func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(vtMarshaler)
	if !ok || !screeningMessage(v) {
		return c.CodecV2.Marshal(v)
	}
	size := m.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(size) {
		buf := make([]byte, size)
		if _, err := m.MarshalToSizedBufferVT(buf); err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(size)
	if _, err := m.MarshalToSizedBufferVT((*buf)[:size]); err != nil {
		pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// Marks of an undecodable message.
const (
	// malformedField is the unknown field number of the mark: the largest
	// valid number, which no message of this service declares.
	malformedField protowire.Number = protowire.MaxValidNumber
	markMalformed  byte             = 1 // not valid protobuf wire format
	markUTF8       byte             = 2 // a string field is not valid UTF-8
)

// Unmarshal decodes data into v; for a proto message that does not decode
// it returns nil with v emptied and marked (see requestCodec). Other
// errors are the proto codec's.
func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if fastUnmarshal(data, v) {
		return nil
	}
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	mark := markMalformed
	var u interface{ InvalidUTF8() bool }
	if errors.As(err, &u) && u.InvalidUTF8() {
		mark = markUTF8
	}
	proto.Reset(m)
	b := protowire.AppendTag(nil, malformedField, protowire.BytesType)
	m.ProtoReflect().SetUnknown(protowire.AppendBytes(b, []byte{mark}))
	return nil
}

// undecodable returns an INVALID_REQUEST refusal when m was marked by
// requestCodec, else nil. The refusal names no content of the message.
func undecodable(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	u := msg.ProtoReflect().GetUnknown()
	if len(u) == 0 {
		return nil
	}
	num, typ, n := protowire.ConsumeTag(u)
	if n < 0 || num != malformedField || typ != protowire.BytesType {
		return nil
	}
	v, m2 := protowire.ConsumeBytes(u[n:])
	if m2 < 0 || n+m2 != len(u) || len(v) != 1 {
		return nil
	}
	switch v[0] {
	case markUTF8:
		return (&refusal{reason: ReasonInvalidRequest, msg: "a string field of the request message is not valid UTF-8",
			meta: map[string]string{"cause": "invalid_utf8"}}).status()
	case markMalformed:
		return (&refusal{reason: ReasonInvalidRequest, msg: "the request message is not valid protobuf",
			meta: map[string]string{"cause": "malformed_message"}}).status()
	}
	return nil
}

// screeningMessage reports whether v is a ScreeningService request or
// response of the screening calls: the only messages the fast path takes.
// The other services' messages (dataset loads, the suppression list, the
// receipt key) keep the proto codec: their decoded strings are copies,
// never views of a message buffer that a long-lived value could pin, and
// a response string that is not valid UTF-8 (a file name, say) fails as
// before rather than reaching the client.
func screeningMessage(v any) bool {
	switch v.(type) {
	case *pb.ScreenContactRequest, *pb.ScreenContactsRequest, *pb.ScreenContactBatchRequest,
		*pb.ScreenContactResponse, *pb.ScreenContactsResponse, *pb.ScreenContactBatchResponse:
		return true
	}
	return false
}

// fastUnmarshal decodes data into v with the generated vtprotobuf method
// and reports whether it did. It does so only for a screening request
// (screeningMessage) whose type has a
// wireSchema (every field a kind the schema knows, proto3) and data passes
// the schema's check, which refuses exactly what the proto codec would
// refuse and the generated method would not (invalid UTF-8 in a string
// field, field numbers above protowire.MaxValidNumber, overlong varints)
// and unknown fields whose tag is not in its shortest form (the two would
// keep them differently);
// then the generated method decodes it as the proto codec would (the
// codec's fuzz test compares the two). Otherwise, or when the generated
// method fails (it refuses a known field in a wire type it does not
// expect, which the proto codec keeps as an unknown field), v is left
// empty and it returns false for the proto codec to decode or refuse.
//
// The message's strings alias a copy of data that nothing else holds and
// that is never written again: one allocation per message instead of one
// per string.
func fastUnmarshal(data mem.BufferSlice, v any) bool {
	m, ok := v.(vtUnmarshaler)
	if !ok || !screeningMessage(v) {
		return false
	}
	s := schemaOf(m.ProtoReflect().Descriptor())
	if s == nil {
		return false
	}
	b := data.Materialize()
	if !s.check(b, 0) {
		return false
	}
	contacts := contactsOf(m)
	var old []*pb.Contact
	if contacts != nil {
		old = *contacts
	}
	proto.Reset(m)
	if contacts != nil {
		*contacts = contactSlots(old, b)
	}
	if err := m.UnmarshalVTUnsafe(b); err != nil {
		proto.Reset(m)
		return false
	}
	return true
}

// contactsField is the field number of contacts in ScreenContactsRequest
// and ScreenContactBatchRequest.
var contactsField = (&pb.ScreenContactsRequest{}).ProtoReflect().Descriptor().Fields().ByName("contacts").Number()

// contactsOf returns the contacts field of a batch request
// (ScreenContactsRequest, ScreenContactBatchRequest), else nil.
func contactsOf(m proto.Message) *[]*pb.Contact {
	switch r := m.(type) {
	case *pb.ScreenContactsRequest:
		return &r.Contacts
	case *pb.ScreenContactBatchRequest:
		return &r.Contacts
	}
	return nil
}

// contactSlots returns the empty contacts slice a batch request is to be
// decoded into from b, its checked encoding: with room for as many
// contacts as b holds (at most MaxBatch; a larger batch is refused after
// decoding anyway), each slot holding an empty contact, so that the
// generated unmarshal, which fills slots already in the slice (the "pool"
// option in proto/buf.gen.yaml), allocates no contact on its own. The
// contacts of old, the slice the message held before (a ScreenContacts
// stream decodes every message into the same request), are emptied and
// used again when there is room; else one new array holds them all.
func contactSlots(old []*pb.Contact, b []byte) []*pb.Contact {
	n := 0
	for len(b) > 0 {
		num, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return nil
		}
		b = b[k:]
		if num == contactsField && typ == protowire.BytesType {
			n++
		}
		if k = protowire.ConsumeFieldValue(num, typ, b); k < 0 {
			return nil
		}
		b = b[k:]
	}
	if n == 0 || n > MaxBatch {
		return nil
	}
	if cap(old) >= n {
		// Every contact of the last message is emptied, the ones past n
		// too: none keeps the last message's strings (personal data, and
		// its buffer) alive for the rest of the stream.
		for _, c := range old[:cap(old)] {
			if c != nil {
				*c = pb.Contact{}
			}
		}
		return old[:0]
	}
	arena := make([]pb.Contact, n)
	slots := make([]*pb.Contact, n)
	for i := range arena {
		slots[i] = &arena[i]
	}
	return slots[:0]
}

// wireKind is how wireSchema checks a field's value.
type wireKind uint8

const (
	wireNone    wireKind = iota // no such field: kept as an unknown field
	wireVarint                  // bool, enum, (s|u)int32/64
	wireFixed32                 // fixed32, sfixed32, float
	wireFixed64                 // fixed64, sfixed64, double
	wireString                  // proto3 string: valid UTF-8
	wireBytes
	wireMessage
)

// wireType is the wire type the proto codec decodes a field of kind k
// from; any other wire type makes it an unknown field.
func (k wireKind) wireType() protowire.Type {
	switch k {
	case wireVarint:
		return protowire.VarintType
	case wireFixed32:
		return protowire.Fixed32Type
	case wireFixed64:
		return protowire.Fixed64Type
	}
	return protowire.BytesType
}

// wireSchema is what the fast path checks of one message type, indexed by
// field number.
type wireSchema struct {
	fields []wireField
}

type wireField struct {
	kind wireKind
	sub  *wireSchema // wireMessage
}

// maxCheckDepth bounds the nesting fastUnmarshal checks; deeper messages go
// to the proto codec (whose own limit is far higher).
const maxCheckDepth = 16

// check reports whether b is a valid encoding of the message that the
// proto codec would decode without error.
func (s *wireSchema) check(b []byte, depth int) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return false
		}
		b = b[n:]
		var f wireField
		if int(num) < len(s.fields) {
			f = s.fields[num]
		}
		if f.kind == wireNone || typ != f.kind.wireType() {
			// An unknown field. The proto codec keeps it with its tag
			// written anew (shortest form), the generated method as sent.
			if n != protowire.SizeTag(num) {
				return false
			}
			n = protowire.ConsumeFieldValue(num, typ, b)
		} else {
			switch f.kind {
			case wireVarint:
				_, n = protowire.ConsumeVarint(b)
			case wireFixed32:
				_, n = protowire.ConsumeFixed32(b)
			case wireFixed64:
				_, n = protowire.ConsumeFixed64(b)
			default:
				var v []byte
				v, n = protowire.ConsumeBytes(b)
				switch {
				case n < 0:
				case f.kind == wireString && !utf8.Valid(v):
					return false
				case f.kind == wireMessage && (depth >= maxCheckDepth || !f.sub.check(v, depth+1)):
					return false
				}
			}
		}
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// schemas caches schemaOf by message name; a nil entry means the fast
// path does not take the message.
var schemas sync.Map // protoreflect.FullName -> *wireSchema

// schemaOf returns the wireSchema of messages md, or nil when the fast
// path does not take them: not proto3, or a field that is repeated but not
// a message (packed encodings), a map, a group or in a oneof, or such a
// field in a message it contains.
func schemaOf(md protoreflect.MessageDescriptor) *wireSchema {
	if s, ok := schemas.Load(md.FullName()); ok {
		return s.(*wireSchema)
	}
	s := buildSchema(md, map[protoreflect.FullName]*wireSchema{})
	schemas.Store(md.FullName(), s)
	return s
}

func buildSchema(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]*wireSchema) *wireSchema {
	if s, ok := seen[md.FullName()]; ok {
		return s // recursive message: the schema under construction
	}
	if md.ParentFile().Syntax() != protoreflect.Proto3 || md.Oneofs().Len() > 0 || md.ExtensionRanges().Len() > 0 {
		return nil
	}
	fds := md.Fields()
	maxNum := 0
	for i := range fds.Len() {
		maxNum = max(maxNum, int(fds.Get(i).Number()))
	}
	if maxNum > 1000 {
		return nil // a sparse table; the proto codec will do
	}
	s := &wireSchema{fields: make([]wireField, maxNum+1)}
	seen[md.FullName()] = s
	for i := range fds.Len() {
		fd := fds.Get(i)
		if fd.IsMap() || fd.ContainingOneof() != nil || (fd.IsList() && fd.Kind() != protoreflect.MessageKind) {
			return nil
		}
		var f wireField
		switch fd.Kind() {
		case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Int64Kind,
			protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind:
			f.kind = wireVarint
		case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
			f.kind = wireFixed32
		case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
			f.kind = wireFixed64
		case protoreflect.StringKind:
			f.kind = wireString
		case protoreflect.BytesKind:
			f.kind = wireBytes
		case protoreflect.MessageKind:
			f.kind = wireMessage
			if f.sub = buildSchema(fd.Message(), seen); f.sub == nil {
				return nil
			}
		default: // groups
			return nil
		}
		s.fields[fd.Number()] = f
	}
	return s
}
