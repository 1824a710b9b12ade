// Package server is the gRPC adapter of robinscreen: it validates requests,
// calls package screening on a store snapshot and translates results and
// errors. New is the one bootstrap function for the gRPC server
// (interceptors, message limits, keepalive policy, health and reflection).
package server
