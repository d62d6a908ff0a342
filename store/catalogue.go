package store

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// catalogue is the in-memory index of channels and their series. It is
// loaded from the channel and series key spaces at Open and grows as Write
// meets new channels and fields, so that the UI lists a new channel the
// moment its first reading is stored.
type catalogue struct {
	mu         sync.RWMutex
	chans      map[Channel]*chanEntry
	seriesByID map[uint32]*series
	nextChan   uint32
	nextSeries uint32
	nseries    int
}

type chanEntry struct {
	id        uint32
	ch        Channel
	persisted atomic.Bool
	fields    map[fieldKey]*series // guarded by catalogue.mu
}

type fieldKey struct {
	name string
	kind FieldKind
}

type series struct {
	id        uint32
	name      string
	kind      FieldKind
	persisted atomic.Bool
	// guarded by catalogue.mu
	hasData   bool
	first     time.Time
	last      time.Time
	lastNum   float64
	lastText  string
	sealed    summary // of the sealed chunks
	hasSealed bool
}

type seriesUpdate struct {
	s     *series
	first time.Time // the oldest time written
	t     time.Time // the newest, whose value num or text is
	num   float64
	text  string
}

// updateSet gathers the updates of a write, one per series: a commit of
// thousands of readings touches a few dozen series. The appliance commits
// a device's reading or two at a time, so a short set is searched, not
// hashed: a map per commit was most of what the write path allocated.
type updateSet struct {
	list  []seriesUpdate
	index map[*series]int // once the list is longer than updateListMax
}

const updateListMax = 32

// add notes a value of se at t; of equal times the later one wins.
func (u *updateSet) add(se *series, t time.Time, num float64, text string) {
	i := -1
	if u.index != nil {
		if j, ok := u.index[se]; ok {
			i = j
		}
	} else {
		for j := range u.list {
			if u.list[j].s == se {
				i = j
				break
			}
		}
	}
	if i >= 0 {
		up := &u.list[i]
		if t.Before(up.first) {
			up.first = t
		}
		if !t.Before(up.t) {
			up.t, up.num, up.text = t, num, text
		}
		return
	}
	u.list = append(u.list, seriesUpdate{se, t, t, num, text})
	switch {
	case u.index != nil:
		u.index[se] = len(u.list) - 1
	case len(u.list) > updateListMax:
		u.index = make(map[*series]int, 2*len(u.list))
		for j, up := range u.list {
			u.index[up.s] = j
		}
	}
}

func (c *catalogue) init() {
	if c.chans == nil {
		c.chans = make(map[Channel]*chanEntry)
		c.seriesByID = make(map[uint32]*series)
	}
}

func (c *catalogue) byID(id uint32) *series {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.seriesByID[id]
}

// seriesOf returns the series of a channel.
func (c *catalogue) seriesOf(chanID uint32) []*series {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, ce := range c.chans {
		if ce.id == chanID {
			out := make([]*series, 0, len(ce.fields))
			for _, se := range ce.fields {
				out = append(out, se)
			}
			return out
		}
	}
	return nil
}

// trimSummary moves a series' first time up to cutoff after retention
// deleted what came before, and forgets the series when nothing is left.
func (c *catalogue) trimSummary(se *series, cutoff time.Time) (summary, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !se.hasData || !se.first.Before(cutoff) {
		return se.sealed, false
	}
	if se.last.Before(cutoff) {
		se.hasData = false
	}
	se.first = cutoff
	if se.hasSealed && se.sealed.first.Before(cutoff) {
		se.sealed.first = cutoff
	}
	return se.sealed, se.hasSealed
}

func (c *catalogue) removeChannel(ch Channel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ce := c.chans[ch]
	if ce == nil {
		return
	}
	for _, se := range ce.fields {
		delete(c.seriesByID, se.id)
		c.nseries--
	}
	delete(c.chans, ch)
}

func (c *catalogue) removeSeries(ch Channel, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ce := c.chans[ch]
	if ce == nil {
		return
	}
	for _, kind := range []FieldKind{Numeric, Text} {
		if se := ce.fields[fieldKey{name, kind}]; se != nil {
			delete(c.seriesByID, se.id)
			delete(ce.fields, fieldKey{name, kind})
			c.nseries--
		}
	}
}

// sealedSummary merges an hour's first and last into what is known of the
// sealed data of a series, and returns the new summary.
func (c *catalogue) sealedSummary(se *series, first, last time.Time, lastCell cell) summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	sm := se.sealed
	if !se.hasSealed || first.Before(sm.first) {
		sm.first = first
	}
	if !se.hasSealed || !last.Before(sm.last) {
		sm.last = last
		sm.num, sm.text, sm.isText = lastCell.num, lastCell.text, lastCell.isText
	}
	se.sealed, se.hasSealed = sm, true
	return sm
}

// channel returns the entry for ch, creating it (unpersisted) if needed.
func (c *catalogue) channel(ch Channel) *chanEntry {
	c.mu.RLock()
	ce := c.chans[ch]
	c.mu.RUnlock()
	if ce != nil {
		return ce
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	if ce = c.chans[ch]; ce != nil {
		return ce
	}
	c.nextChan++
	ce = &chanEntry{id: c.nextChan, ch: ch, fields: make(map[fieldKey]*series)}
	c.chans[ch] = ce
	return ce
}

// series returns the series of ce named name, creating it if needed.
func (c *catalogue) series(ce *chanEntry, name string, kind FieldKind) *series {
	k := fieldKey{name, kind}
	c.mu.RLock()
	se := ce.fields[k]
	c.mu.RUnlock()
	if se != nil {
		return se
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if se = ce.fields[k]; se != nil {
		return se
	}
	c.nextSeries++
	c.nseries++
	se = &series{id: c.nextSeries, name: name, kind: kind}
	ce.fields[k] = se
	c.seriesByID[se.id] = se
	return se
}

func (c *catalogue) channelID(ch Channel) (uint32, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if ce := c.chans[ch]; ce != nil {
		return ce.id, true
	}
	return 0, false
}

func (c *catalogue) seriesID(ch Channel, name string, kind FieldKind) (uint32, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ce := c.chans[ch]
	if ce == nil {
		return 0, false
	}
	se := ce.fields[fieldKey{name, kind}]
	if se == nil {
		return 0, false
	}
	return se.id, true
}

// apply records the newest value of each series after a successful write.
func (c *catalogue) apply(updates []seriesUpdate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range updates {
		s := u.s
		if !s.hasData || u.first.Before(s.first) {
			s.first = u.first
		}
		if !s.hasData || !u.t.Before(s.last) {
			s.last = u.t
			s.lastNum = u.num
			s.lastText = u.text
		}
		s.hasData = true
	}
}

func (c *catalogue) counts() (chans, series int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.chans), c.nseries
}

func (c *catalogue) list() []ChannelInfo {
	c.mu.RLock()
	out := make([]ChannelInfo, 0, len(c.chans))
	for _, ce := range c.chans {
		if ci, ok := ce.infoLocked(); ok {
			out = append(out, ci)
		}
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return channelLess(out[i].Channel, out[j].Channel) })
	return out
}

func (c *catalogue) info(ch Channel) (ChannelInfo, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ce := c.chans[ch]
	if ce == nil {
		return ChannelInfo{}, false
	}
	return ce.infoLocked()
}

// infoLocked describes the channel; a channel whose series hold no data
// (a write that failed after the catalogue grew) is not listed.
func (ce *chanEntry) infoLocked() (ChannelInfo, bool) {
	ci := ChannelInfo{Channel: ce.ch}
	for _, se := range ce.fields {
		if !se.hasData {
			continue
		}
		ci.Fields = append(ci.Fields, FieldInfo{
			Name: se.name, Kind: se.kind, First: se.first, Last: se.last,
			LastValue: se.lastNum, LastText: se.lastText,
		})
		if ci.First.IsZero() || se.first.Before(ci.First) {
			ci.First = se.first
		}
		if se.last.After(ci.Last) {
			ci.Last = se.last
		}
	}
	if len(ci.Fields) == 0 {
		return ci, false
	}
	sort.Slice(ci.Fields, func(i, j int) bool {
		if ci.Fields[i].Name != ci.Fields[j].Name {
			return ci.Fields[i].Name < ci.Fields[j].Name
		}
		return ci.Fields[i].Kind < ci.Fields[j].Kind
	})
	return ci, true
}

func channelLess(a, b Channel) bool {
	if a.Realm != b.Realm {
		return a.Realm < b.Realm
	}
	if a.Network != b.Network {
		return a.Network < b.Network
	}
	if a.Gateway != b.Gateway {
		return a.Gateway < b.Gateway
	}
	return a.Node < b.Node
}

// load reads the channel and series descriptors and the series summaries
// of the sealed data; the records not sealed yet are applied by the store.
func (c *catalogue) load(db *pebble.DB) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	byID := make(map[uint32]*chanEntry)
	err := iterate(db, prefixChannel, func(k, v []byte) error {
		id := binary.BigEndian.Uint32(k[1:5])
		ch, err := decodeChannel(v)
		if err != nil {
			return fmt.Errorf("channel %d: %w", id, err)
		}
		ce := &chanEntry{id: id, ch: ch, fields: make(map[fieldKey]*series)}
		ce.persisted.Store(true)
		c.chans[ch] = ce
		byID[id] = ce
		c.nextChan = max(c.nextChan, id)
		return nil
	})
	if err != nil {
		return err
	}
	err = iterate(db, prefixSeries, func(k, v []byte) error {
		id := binary.BigEndian.Uint32(k[1:5])
		chanID, kind, name, err := decodeSeries(v)
		if err != nil {
			return fmt.Errorf("series %d: %w", id, err)
		}
		ce := byID[chanID]
		if ce == nil {
			return fmt.Errorf("series %d: unknown channel %d", id, chanID)
		}
		se := &series{id: id, name: name, kind: kind}
		se.persisted.Store(true)
		ce.fields[fieldKey{name, kind}] = se
		c.seriesByID[id] = se
		c.nextSeries = max(c.nextSeries, id)
		c.nseries++
		return nil
	})
	if err != nil {
		return err
	}
	return iterate(db, prefixSummary, func(k, v []byte) error {
		se := c.seriesByID[binary.BigEndian.Uint32(k[1:5])]
		sm, ok := decodeSummary(v)
		if se == nil || !ok {
			return nil
		}
		se.sealed, se.hasSealed = sm, true
		se.hasData, se.first, se.last = true, sm.first, sm.last
		se.lastNum, se.lastText = sm.num, sm.text
		return nil
	})
}

// iterate calls fn for every key in one key space.
func iterate(db *pebble.DB, prefix byte, fn func(k, v []byte) error) error {
	return iterateRange(db, []byte{prefix}, []byte{prefix + 1}, fn)
}

// iterateRange calls fn for every key in [lower, upper); k and v are valid
// only during the call.
func iterateRange(db *pebble.DB, lower, upper []byte, fn func(k, v []byte) error) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			return err
		}
	}
	return it.Error()
}
