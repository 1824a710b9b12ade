// Package clientsit holds the tests of the Go client library
// (github.com/robinscreen/robinscreen/clients) that need a real robinscreen
// server: the client module itself must not import the server, the store or
// their dependencies, so these tests live in the server's module and drive
// the client against server.New over the synthetic demo dataset. The package
// has no code of its own.
package clientsit
