package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Retention says how long a realm's data is kept: raw points (chunks and
// records), hourly and daily rollups. Zero keeps forever.
type Retention struct {
	Raw, Hourly, Daily time.Duration
}

// ApplyRetention deletes, with range deletions, what every channel's
// realm no longer keeps: whole hours of points, whole rollup blocks. The
// store does this every hour by itself.
func (s *Store) ApplyRetention(ctx context.Context) error {
	if s.opts.Retention == nil {
		return nil
	}
	now := s.opts.Now()
	for _, ci := range s.cat.list() {
		if err := ctx.Err(); err != nil {
			return err
		}
		pol := s.opts.Retention(ci.Channel.Realm)
		if pol == (Retention{}) {
			continue
		}
		if err := s.retainChannel(ci.Channel, pol, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) retainChannel(ch Channel, pol Retention, now time.Time) error {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	s.rollups.clear() // the blocks are about to change on disk
	if s.closedDB.Load() {
		return ErrClosed
	}
	chanID, ok := s.cat.channelID(ch)
	if !ok {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	var rawCutoff time.Time
	if pol.Raw > 0 {
		rawCutoff = hourOf(now.Add(-pol.Raw))
		_ = b.DeleteRange(idKey(prefixChunk, chanID), pointKey(prefixChunk, chanID, rawCutoff), nil)
		_ = b.DeleteRange(idKey(prefixRecent, chanID), pointKey(prefixRecent, chanID, rawCutoff), nil)
	}
	for _, rr := range []struct {
		r   resolution
		ttl time.Duration
	}{{resHour, pol.Hourly}, {resDay, pol.Daily}} {
		if rr.ttl <= 0 {
			continue
		}
		// Whole blocks only: a block is deleted once its last bucket is past.
		cutoff := rr.r.blockStart(now.Add(-rr.ttl))
		_ = b.DeleteRange(rollupKey(chanID, rr.r, time.Unix(0, 0).Add(-1<<62)), rollupKey(chanID, rr.r, cutoff), nil)
	}
	if !rawCutoff.IsZero() {
		for _, se := range s.cat.seriesOf(chanID) {
			if sm, moved := s.cat.trimSummary(se, rawCutoff); moved {
				_ = b.Set(idKey(prefixSummary, se.id), encodeSummary(sm), nil)
			}
		}
		s.dirtyMu.Lock()
		for h := range s.dirty[chanID] {
			if h.Before(rawCutoff) {
				delete(s.dirty[chanID], h)
			}
		}
		s.dirtyMu.Unlock()
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("store: retention of %s: %w", ch, err)
	}
	return nil
}

// DeleteChannel deletes a channel with all its points, rollups, events and
// properties. A later reading for it starts a new channel.
func (s *Store) DeleteChannel(ch Channel) error {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	s.rollups.clear() // the blocks are about to change on disk
	if s.closedDB.Load() {
		return ErrClosed
	}
	chanID, ok := s.cat.channelID(ch)
	if !ok {
		return fmt.Errorf("store: no channel %s", ch)
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, p := range []byte{prefixRecent, prefixChunk, prefixRollup, prefixEvent, prefixProp} {
		lower := idKey(p, chanID)
		_ = b.DeleteRange(lower, incrementKey(lower), nil)
	}
	for _, se := range s.cat.seriesOf(chanID) {
		_ = b.Delete(idKey(prefixSeries, se.id), nil)
		_ = b.Delete(idKey(prefixSummary, se.id), nil)
	}
	_ = b.Delete(idKey(prefixChannel, chanID), nil)
	if err := s.commitDurably(b); err != nil {
		return fmt.Errorf("store: delete %s: %w", ch, err)
	}
	s.cat.removeChannel(ch)
	s.dirtyMu.Lock()
	delete(s.dirty, chanID)
	s.dirtyMu.Unlock()
	return nil
}

// DeleteField deletes one field of a channel (its numbers and its text):
// the chunks and rollup blocks of the channel are rewritten without it. A
// later value of the field starts a new series.
func (s *Store) DeleteField(ch Channel, field string) error {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	s.rollups.clear() // the blocks are about to change on disk
	if s.closedDB.Load() {
		return ErrClosed
	}
	chanID, ok := s.cat.channelID(ch)
	if !ok {
		return fmt.Errorf("store: no channel %s", ch)
	}
	drop := map[uint32]bool{}
	for _, kind := range []FieldKind{Numeric, Text} {
		if id, ok := s.cat.seriesID(ch, field, kind); ok {
			drop[id] = true
		}
	}
	if len(drop) == 0 {
		return fmt.Errorf("store: %s has no field %q", ch, field)
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.rewriteChunks(b, chanID, drop); err != nil {
		return err
	}
	for _, r := range []resolution{resHour, resDay} {
		if err := s.rewriteRollups(b, chanID, r, drop); err != nil {
			return err
		}
	}
	for id := range drop {
		_ = b.Delete(idKey(prefixSeries, id), nil)
		_ = b.Delete(idKey(prefixSummary, id), nil)
	}
	if err := s.commitDurably(b); err != nil {
		return fmt.Errorf("store: delete %s %q: %w", ch, field, err)
	}
	s.cat.removeSeries(ch, field)
	return nil
}

func (s *Store) rewriteChunks(b *pebble.Batch, chanID uint32, drop map[uint32]bool) error {
	lower := idKey(prefixChunk, chanID)
	return iterateRange(s.db, lower, incrementKey(lower), func(key, v []byte) error {
		data := hourData{}
		if err := s.codec.decodeChunk(v, nil, data.put); err != nil {
			return err
		}
		for id := range drop {
			delete(data, id)
		}
		// The batch copies key and value.
		if len(data) == 0 {
			return b.Delete(key, nil)
		}
		return b.Set(key, s.codec.encodeChunk(data), nil)
	})
}

func (s *Store) rewriteRollups(b *pebble.Batch, chanID uint32, r resolution, drop map[uint32]bool) error {
	lower := rollupKey(chanID, r, time.Unix(0, 0).Add(-1<<62))[:6]
	return iterateRange(s.db, lower, incrementKey(lower), func(key, v []byte) error {
		blk, err := s.codec.decodeRollup(v, r, keyTimeAt(key, 6), nil)
		if err != nil {
			return err
		}
		for id := range drop {
			delete(blk, id)
		}
		return b.Set(key, s.codec.encodeRollup(blk, r), nil) // the batch copies key and value
	})
}
