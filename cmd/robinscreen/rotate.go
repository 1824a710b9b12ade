package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/robinscreen/robinscreen/store"
)

// rotateKey re-encrypts an encrypted data directory's data keys under a new
// master key, offline.
func rotateKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "", "data directory (not in use by a server)")
	oldFile := fs.String("old-key", "", "current encryption key file")
	newFile := fs.String("new-key", "", "new encryption key file (32 hex-encoded bytes)")
	if err := fs.Parse(args); err != nil || *dir == "" || *oldFile == "" || *newFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: robinscreen rotate-key --data DIR --old-key FILE --new-key FILE")
		return errUsage
	}
	oldKey, err := store.ReadKey(*oldFile)
	if err != nil {
		return err
	}
	newKey, err := store.ReadKey(*newFile)
	if err != nil {
		return err
	}
	if err := store.RotateEncryptionKey(*dir, oldKey, newKey); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rotated: %s now opens with %s; keep the old key until you have checked it\n", *dir, *newFile)
	return nil
}
