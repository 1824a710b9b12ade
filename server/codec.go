package server

import (
	"errors"

	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// requestCodec is the server's codec: gRPC's proto codec, except for a
// request message that does not decode. gRPC answers every Unmarshal error
// INTERNAL without an ErrorInfo, and for a unary call before any
// interceptor runs; so instead the message is emptied and marked (an
// unknown field no client sends), and the message interceptors
// (limitUnary, limitStream) refuse it INVALID_ARGUMENT with an ErrorInfo
// (reason INVALID_REQUEST). A marked message that reached a handler would
// be an empty request, which validation refuses too: never a screening.
type requestCodec struct{ encoding.CodecV2 }

func newRequestCodec() requestCodec {
	return requestCodec{encoding.GetCodecV2(protocodec.Name)}
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
