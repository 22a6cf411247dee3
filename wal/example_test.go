package wal_test

import (
	"fmt"
	"log"
	"os"

	"github.com/strata-db/strata/wal"
)

// The storage engine's life cycle: replay at startup, append and wait before
// acknowledging, rotate when the head is flushed, drop what the block holds.
func Example() {
	dir, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	w, err := wal.Open(wal.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	err = w.Replay(0, func(pos wal.Position, rec []byte) error {
		return nil // rebuild the in-memory head from rec
	})
	if err != nil {
		log.Fatal(err)
	}

	seq, err := w.Append([]byte("batch 1"))
	if err != nil {
		log.Fatal(err)
	}
	if err := w.WaitDurable(seq); err != nil {
		log.Fatal(err) // never acknowledge the client
	}

	flushFrom, err := w.Rotate() // the head up to here goes into a block
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write([]byte("batch 2")); err != nil {
		log.Fatal(err)
	}
	// Once the block is durable:
	if err := w.RemoveBefore(flushFrom); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	w, err = wal.Open(wal.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	err = w.Replay(0, func(pos wal.Position, rec []byte) error {
		fmt.Printf("segment %d offset %d: %s\n", pos.Segment, pos.Offset, rec)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// segment 2 offset 8: batch 2
}
