package store

import "github.com/cockroachdb/pebble/v2"

// PebbleMetrics lets the benchmarks of package store_test see what Pebble
// wrote.
func (s *Store) PebbleMetrics() *pebble.Metrics { return s.db.Metrics() }
