package main

import (
	"fmt"
	"sync"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec used as fallback
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// rawMessage is a request marshalled before the clock starts.
type rawMessage struct{ b []byte }

// decisionCounts is a ScreenContactsResponse decoded only as far as the
// decision of each result (field 1 results, field 2 decision).
type decisionCounts struct {
	results int
	byDec   [4]int // indexed by pb.Decision
}

// lightCodec is the "proto" codec for the batch mode: it sends pre-marshalled
// requests as they are and counts decisions in responses without building
// the generated message tree. Anything else goes to the standard codec.
type lightCodec struct{ std encoding.CodecV2 }

func newLightCodec() lightCodec { return lightCodec{std: encoding.GetCodecV2("proto")} }

func (lightCodec) Name() string { return "proto" }

func (c lightCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(r.b)}, nil
	}
	return c.std.Marshal(v)
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

func (c lightCodec) Unmarshal(data mem.BufferSlice, v any) error {
	d, ok := v.(*decisionCounts)
	if !ok {
		return c.std.Unmarshal(data, v)
	}
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	n := data.Len()
	if cap(*bp) < n {
		*bp = make([]byte, n)
	}
	b := (*bp)[:n]
	data.CopyTo(b)
	return d.scan(b)
}

func (d *decisionCounts) scan(b []byte) error {
	*d = decisionCounts{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			res, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			dec, err := resultDecision(res)
			if err != nil {
				return err
			}
			d.results++
			if dec >= 0 && int(dec) < len(d.byDec) {
				d.byDec[dec]++
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

// resultDecision returns field 2 (decision) of an encoded ScreeningResult.
func resultDecision(b []byte) (pb.Decision, error) {
	dec := pb.Decision_DECISION_UNSPECIFIED
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 2 && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, protowire.ParseError(n)
			}
			b = b[n:]
			dec = pb.Decision(v)
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
	}
	if dec < 0 || dec > pb.Decision_DECISION_REVIEW {
		return dec, fmt.Errorf("unknown decision %d", dec)
	}
	return dec, nil
}
