package receiptpb

import (
	"encoding/hex"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/receipt"
)

// Contact fills dst with a contact as a receipt digests it: the
// channel and purpose by their value names, the suppression-list scope of
// its request message and every field the contact
// has set, by its proto name (a bool as "true", an enum by its value's
// name; a repeated field gives one field per element), so that a field
// added to Contact later is bound without a change here. It is the one
// conversion the server and the offline verifier share.
func Contact(ch pb.Channel, purpose pb.Purpose, scope string, c *pb.Contact, dst *receipt.Contact) {
	dst.Channel, dst.Purpose, dst.Scope = ch.String(), purpose.String(), scope
	dst.Fields = dst.Fields[:0]
	c.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				dst.Fields = append(dst.Fields, receipt.Field{Name: name, Value: fieldText(fd, l.Get(i))})
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				dst.Fields = append(dst.Fields, receipt.Field{Name: name + "[" + k.String() + "]", Value: fieldText(fd.MapValue(), mv)})
				return true
			})
		default:
			dst.Fields = append(dst.Fields, receipt.Field{Name: name, Value: fieldText(fd, v)})
		}
		return true
	})
}

// fieldText writes one value of a field as text.
func fieldText(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return strconv.Itoa(int(v.Enum()))
	case protoreflect.BytesKind:
		return hex.EncodeToString(v.Bytes())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(v.Message().Interface())
		return hex.EncodeToString(b)
	}
	return v.String() // numbers
}

// Result fills dst with a result as a receipt digests it: the
// reference, the decision and reasons by their value names, and the
// datasets.
func Result(r *pb.ScreeningResult, dst *receipt.Result) {
	dst.Ref, dst.Decision = r.GetRef(), r.GetDecision().String()
	dst.Reasons = dst.Reasons[:0]
	for _, x := range r.GetReasons() {
		dst.Reasons = append(dst.Reasons, x.String())
	}
	dst.Datasets = dst.Datasets[:0]
	for _, d := range r.GetDatasets() {
		dst.Datasets = append(dst.Datasets, receipt.Dataset{Kind: d.GetKind(), Version: d.GetVersion(), Published: d.GetPublished().AsTime()})
	}
}

// ToProto returns r as its protobuf message.
func ToProto(r *receipt.Receipt) *pb.ScreeningReceipt {
	out := &pb.ScreeningReceipt{
		Format: r.Format, KeyId: r.KeyID, IssuedAt: timestamppb.New(r.IssuedAt), Nonce: r.Nonce,
		Contacts: r.Contacts, ContactsSha256: r.ContactsSHA256, ResultsSha256: r.ResultsSHA256,
		Decisions: r.Decisions, Reasons: r.Reasons, Signature: r.Signature,
	}
	for _, sc := range r.Scopes {
		out.Scopes = append(out.Scopes, &pb.ReceiptScope{Channel: pb.Channel(pb.Channel_value[sc.Channel]), Purpose: pb.Purpose(pb.Purpose_value[sc.Purpose]), Contacts: sc.Contacts})
	}
	for _, d := range r.Datasets {
		out.Datasets = append(out.Datasets, &pb.DatasetRef{Kind: d.Kind, Version: d.Version, Published: timestamppb.New(d.Published)})
	}
	return out
}

// FromProto returns the receipt a ScreeningReceipt carries, for
// verification.
func FromProto(p *pb.ScreeningReceipt) *receipt.Receipt {
	r := &receipt.Receipt{
		Format: p.GetFormat(), KeyID: p.GetKeyId(), Nonce: p.GetNonce(), Contacts: p.GetContacts(),
		ContactsSHA256: p.GetContactsSha256(), ResultsSHA256: p.GetResultsSha256(),
		Decisions: p.GetDecisions(), Reasons: p.GetReasons(), Signature: p.GetSignature(),
	}
	if p.GetIssuedAt() != nil {
		r.IssuedAt = p.GetIssuedAt().AsTime()
	}
	for _, sc := range p.GetScopes() {
		r.Scopes = append(r.Scopes, receipt.Scope{Channel: sc.GetChannel().String(), Purpose: sc.GetPurpose().String(), Contacts: sc.GetContacts()})
	}
	for _, d := range p.GetDatasets() {
		r.Datasets = append(r.Datasets, receipt.Dataset{Kind: d.GetKind(), Version: d.GetVersion(), Published: d.GetPublished().AsTime()})
	}
	return r
}
