package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// WriteEvents stores events (annotations). Like Write, it returns once they
// are durable; an event at the same channel and time replaces the earlier.
func (s *Store) WriteEvents(ctx context.Context, events []Event) error {
	if s.closed.Load() {
		return ErrClosed
	}
	b := s.db.NewBatch()
	defer b.Close()
	var fresh []*chanEntry
	for i, ev := range events {
		if !ev.Channel.Valid() || ev.Time.IsZero() {
			return fmt.Errorf("store: event %d: invalid channel %q or no time", i, ev.Channel.String())
		}
		ce := s.cat.channel(ev.Channel)
		if !ce.persisted.Load() {
			_ = b.Set(idKey(prefixChannel, ce.id), encodeChannel(ce.ch), nil)
			fresh = append(fresh, ce)
		}
		v, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("store: event %d: %w", i, err)
		}
		_ = b.Set(pointKey(prefixEvent, ce.id, ev.Time), v, nil)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	defer s.durable()()
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: write %d events: %w", len(events), err)
	}
	for _, ce := range fresh {
		ce.persisted.Store(true)
	}
	return nil
}

// Events returns a channel's events in [from, to], oldest first.
func (s *Store) Events(ctx context.Context, ch Channel, from, to time.Time) ([]Event, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	id, ok := s.cat.channelID(ch)
	if !ok || to.Before(from) {
		return nil, nil
	}
	lower, upper := rangeBounds(prefixEvent, id, from, to)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", ch, err)
	}
	defer it.Close()
	var out []Event
	for it.First(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("store: events of %s: %w", ch, err)
		}
		var ev Event
		if err := json.Unmarshal(v, &ev); err != nil {
			continue
		}
		ev.Channel = ch
		ev.Time = keyTime(it.Key())
		out = append(out, ev)
	}
	return out, it.Error()
}
