module github.com/robinscreen/robinscreen/clients

go 1.26.8

require (
	github.com/robinscreen/robinscreen/proto v0.1.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261026165753-2ffab32bce7e
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/planetscale/vtprotobuf v0.6.1-0.20240319094008-0393e58bdf10 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261026165753-2ffab32bce7e // indirect
)

// The generated code is the sibling module in this repository; a release
// tags proto/vX.Y.Z and clients/vX.Y.Z together (see README.md).
replace github.com/robinscreen/robinscreen/proto => ../proto
