package store

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// SetProperty stores a named value for a channel, such as the CSV header a
// device announced once and relies on later. It is durable when it returns.
func (s *Store) SetProperty(ch Channel, name, value string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if !ch.Valid() || name == "" {
		return fmt.Errorf("store: property %q of %q: invalid channel or name", name, ch.String())
	}
	ce := s.cat.channel(ch)
	b := s.db.NewBatch()
	defer b.Close()
	if !ce.persisted.Load() {
		_ = b.Set(idKey(prefixChannel, ce.id), encodeChannel(ce.ch), nil)
	}
	_ = b.Set(append(idKey(prefixProp, ce.id), name...), []byte(value), nil)
	// Durable in interval-sync mode too: a CSV header is sent once.
	if err := s.commitDurably(b); err != nil {
		return fmt.Errorf("store: property %q of %s: %w", name, ch, err)
	}
	ce.persisted.Store(true)
	return nil
}

// Property returns a channel's named value and whether it is set.
func (s *Store) Property(ch Channel, name string) (string, bool, error) {
	if s.closed.Load() {
		return "", false, ErrClosed
	}
	id, ok := s.cat.channelID(ch)
	if !ok {
		return "", false, nil
	}
	v, closer, err := s.db.Get(append(idKey(prefixProp, id), name...))
	if errors.Is(err, pebble.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: property %q of %s: %w", name, ch, err)
	}
	defer closer.Close()
	return string(v), true, nil
}
