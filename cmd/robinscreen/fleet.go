package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// addrList is the repeatable --addr flag: the replicas of a fleet.
type addrList []string

func (a *addrList) String() string { return strings.Join(*a, ",") }

// Set adds one address; a comma-separated list adds each.
func (a *addrList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*a = append(*a, s)
		}
	}
	return nil
}

// lookupHost resolves a replica's DNS name; a variable so that tests can
// resolve a name to several loopback addresses.
var lookupHost = func(ctx context.Context, host string) ([]string, error) {
	return net.DefaultResolver.LookupHost(ctx, host)
}

// replicas returns the client flags of every replica named by --addr:
// each address given, or, when one address whose host is a DNS name is
// given, one per address the name resolves to (a headless Service), each
// verified under TLS as that name. It returns an error when a name does
// not resolve or an address has no port.
func (c *clientFlags) replicas(ctx context.Context) ([]clientFlags, error) {
	addrs := c.addrs
	if len(addrs) == 0 {
		addrs = addrList{c.addr}
	}
	one := func(addr string) clientFlags { r := *c; r.addr = addr; r.addrs = nil; return r }
	if len(addrs) > 1 {
		out := make([]clientFlags, len(addrs))
		for i, a := range addrs {
			out[i] = one(a)
		}
		return out, nil
	}
	host, port, err := net.SplitHostPort(addrs[0])
	if err != nil {
		return nil, fmt.Errorf("--addr %s: %w", addrs[0], err)
	}
	if net.ParseIP(host) != nil || host == "localhost" || host == "" {
		return []clientFlags{one(addrs[0])}, nil
	}
	ips, err := lookupHost(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("--addr %s: %w", addrs[0], err)
	}
	if len(ips) <= 1 {
		return []clientFlags{one(addrs[0])}, nil
	}
	out := make([]clientFlags, len(ips))
	for i, ip := range ips {
		out[i] = one(net.JoinHostPort(ip, port))
		if out[i].serverName == "" {
			out[i].serverName = host // the certificate names the Service, not the pod's IP
		}
	}
	return out, nil
}

// replicaStatus is one replica's answer to GetDatasetStatus, or why there
// is none.
type replicaStatus struct {
	addr string
	resp *pb.GetDatasetStatusResponse
	err  error
}

// fleetStatus asks every replica for its status, all at once, each within
// timeout.
func fleetStatus(reps []clientFlags, timeout time.Duration) []replicaStatus {
	out := make([]replicaStatus, len(reps))
	var wg sync.WaitGroup
	for i, r := range reps {
		out[i].addr = r.addr
		wg.Go(func() {
			c, done, err := adminClient(&r)
			if err != nil {
				out[i].err = err
				return
			}
			defer done()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			out[i].resp, out[i].err = c.GetDatasetStatus(ctx, &pb.GetDatasetStatusRequest{})
		})
	}
	wg.Wait()
	return out
}

// errFleetDisagrees: the replicas serve different versions, or one of them
// did not answer.
var errFleetDisagrees = errors.New("the replicas do not all serve the same versions")

// printFleet writes the replicas' serving versions side by side (a row per
// replica, a column per dataset kind) and, under the table, every kind
// whose versions differ between replicas (MISMATCH) and every replica that
// did not answer. It returns errFleetDisagrees in either case.
func printFleet(w io.Writer, sts []replicaStatus) error {
	kinds := []pb.DatasetKind{pb.DatasetKind_DATASET_KIND_ROBINSON, pb.DatasetKind_DATASET_KIND_CPR, pb.DatasetKind_DATASET_KIND_STREETS, pb.DatasetKind_DATASET_KIND_CVR}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "REPLICA")
	for _, k := range kinds {
		fmt.Fprint(tw, "\t"+strings.ToUpper(kindName(k)))
	}
	fmt.Fprintln(tw)
	versions := map[pb.DatasetKind]map[string][]string{} // kind → version → replicas
	var unreachable []string
	for _, s := range sts {
		fmt.Fprint(tw, s.addr)
		if s.err != nil {
			code := status.Code(s.err)
			fmt.Fprintf(tw, "\t(no answer: %s)\t\t\t\n", code)
			unreachable = append(unreachable, fmt.Sprintf("%s: %v", s.addr, describeRPCError(s.err)))
			continue
		}
		byKind := map[pb.DatasetKind]*pb.DatasetStatus{}
		for _, d := range s.resp.GetDatasets() {
			byKind[d.GetKind()] = d
		}
		for _, k := range kinds {
			d := byKind[k]
			v := d.GetServing().GetVersion()
			cell := v
			switch {
			case d.GetDamaged() != "":
				cell, v = "DAMAGED", "DAMAGED"
			case v == "":
				cell = "(none)"
			}
			if d.GetLoading() {
				cell += " (loading)"
			}
			if versions[k] == nil {
				versions[k] = map[string][]string{}
			}
			versions[k][v] = append(versions[k][v], s.addr)
			fmt.Fprint(tw, "\t"+cell)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	bad := len(unreachable) > 0
	for _, k := range kinds {
		if len(versions[k]) <= 1 {
			continue
		}
		bad = true
		var parts []string
		for v, addrs := range versions[k] {
			if v == "" {
				v = "(none)"
			}
			parts = append(parts, fmt.Sprintf("%s on %s", v, strings.Join(addrs, ", ")))
		}
		slices.Sort(parts)
		fmt.Fprintf(w, "%s: MISMATCH: %s\n", kindName(k), strings.Join(parts, "; "))
	}
	for _, u := range unreachable {
		fmt.Fprintf(w, "no answer from %s\n", u)
	}
	if bad {
		return errFleetDisagrees
	}
	return nil
}
