package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apiary-hive/apiary/ingest/decode"
	"github.com/apiary-hive/apiary/ingest/lineproto"
	"github.com/apiary-hive/apiary/store"
)

// ImportOptions say how to read a history file.
type ImportOptions struct {
	// Format is "lineproto" (influx_inspect export, Telegraf) or "csv"
	// (Kotori's CSV export: a time column, then fields).
	Format string
	// Channel, when set, receives every reading. Without it, line protocol
	// is mapped the way Kotori named things: database "realm_network",
	// measurement "gateway_node_sensors" (or "_events").
	Channel store.Channel
	// Precision of line-protocol timestamps (default ns).
	Precision string
	// Zone for CSV times without a zone (default UTC, as Kotori exported).
	Zone *time.Location
	// Progress is called with the bytes read so far, after each batch.
	Progress func(bytesRead int64)
}

// ImportStats count what an import did.
type ImportStats struct {
	Readings int64
	Points   int64
	Events   int64
	BadLines int64
	// FirstErrors holds up to ten bad lines, for the report.
	FirstErrors []string
}

const importBatch = 4096

// Import reads a history file into the store in batches, each durable when
// written. Running it again is harmless: a point at the same channel,
// field and time replaces the one there.
func Import(ctx context.Context, st Store, r io.Reader, opts ImportOptions) (ImportStats, error) {
	counter := &countingReader{r: r}
	known := knownChannels(st)
	var stats ImportStats
	var batch []store.Reading
	var events []store.Event
	flush := func() error {
		if len(batch) > 0 {
			if err := st.Write(ctx, batch); err != nil {
				return err
			}
			for _, rd := range batch {
				stats.Points += int64(rd.Points())
			}
			stats.Readings += int64(len(batch))
			batch = batch[:0]
		}
		if len(events) > 0 {
			if err := st.WriteEvents(ctx, events); err != nil {
				return err
			}
			stats.Events += int64(len(events))
			events = events[:0]
		}
		if opts.Progress != nil {
			opts.Progress(counter.n)
		}
		return ctx.Err()
	}
	bad := func(line int, msg string) {
		stats.BadLines++
		if len(stats.FirstErrors) < 10 {
			stats.FirstErrors = append(stats.FirstErrors, fmt.Sprintf("line %d: %s", line, msg))
		}
	}
	switch opts.Format {
	case "lineproto":
		sc := lineproto.NewScanner(counter, opts.Precision)
		for sc.Scan() {
			if le := sc.LineErr(); le != nil {
				bad(le.Line, le.Msg)
				continue
			}
			p := sc.Point()
			ch, isEvent, err := kotoriChannel(p, opts.Channel, known)
			if err != nil {
				bad(sc.Line(), err.Error())
				continue
			}
			if p.Time.IsZero() {
				bad(sc.Line(), "no timestamp: a history line needs one")
				continue
			}
			if isEvent {
				ev := store.Event{Channel: ch, Time: p.Time}
				for k, v := range p.Fields {
					s := fmt.Sprint(v.Interface())
					switch k {
					case "title":
						ev.Title = s
					case "text":
						ev.Text = s
					case "tags":
						ev.Tags = strings.Split(s, ",")
					default:
						if ev.Extra == nil {
							ev.Extra = map[string]string{}
						}
						ev.Extra[k] = s
					}
				}
				events = append(events, ev)
			} else {
				rd := store.Reading{Channel: ch, Time: p.Time, Fields: map[string]float64{}}
				for k, v := range p.Fields {
					switch v.Kind {
					case lineproto.Float:
						rd.Fields[k] = v.Float
					case lineproto.Int:
						rd.Fields[k] = float64(v.Int)
					case lineproto.Uint:
						rd.Fields[k] = float64(v.Uint)
					case lineproto.Bool:
						rd.Fields[k] = map[bool]float64{true: 1, false: 0}[v.Bool]
					case lineproto.String:
						if rd.Text == nil {
							rd.Text = map[string]string{}
						}
						rd.Text[k] = v.Str
					}
				}
				for k, v := range p.Tags {
					if decode.TagNames[k] {
						if rd.Tags == nil {
							rd.Tags = map[string]string{}
						}
						rd.Tags[k] = v
					}
				}
				batch = append(batch, rd)
			}
			if len(batch)+len(events) >= importBatch {
				if err := flush(); err != nil {
					return stats, err
				}
			}
		}
		if err := sc.Err(); err != nil {
			return stats, err
		}
	case "csv":
		if !opts.Channel.Valid() {
			return stats, errors.New("a CSV file needs --channel realm/network/gateway/node")
		}
		zone := opts.Zone
		if zone == nil {
			zone = time.UTC
		}
		sc := bufio.NewScanner(counter)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var header []string
		line := 0
		for sc.Scan() {
			line++
			var res decode.Result
			dopts := decode.Options{Zone: zone, Received: time.Now(), EarliestTime: time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)}
			h, _, err := decode.DecodeCSV(sc.Bytes(), header, dopts, &res)
			header = h
			if err != nil {
				bad(line, err.Error())
				continue
			}
			for _, n := range res.Notes {
				bad(line, n.Message)
			}
			for _, rd := range res.Readings {
				if rd.Time.Equal(dopts.Received) {
					bad(line, "no time: a history line needs one")
					continue
				}
				rd.Channel = opts.Channel
				batch = append(batch, rd)
			}
			if len(batch) >= importBatch {
				if err := flush(); err != nil {
					return stats, err
				}
			}
		}
		if err := sc.Err(); err != nil {
			return stats, fmt.Errorf("line %d: %w", line+1, err)
		}
	default:
		return stats, fmt.Errorf("unknown import format %q (lineproto or csv)", opts.Format)
	}
	return stats, flush()
}

// knownChannels maps Kotori's storage names (database realm_network,
// measurement gateway_node) of the channels the store already has to the
// channels, so that history lands on the node that reports today.
func knownChannels(st Store) map[[2]string]store.Channel {
	known := map[[2]string]store.Channel{}
	lister, ok := st.(interface{ Channels() []store.ChannelInfo })
	if !ok {
		return known
	}
	for _, ci := range lister.Channels() {
		c := ci.Channel
		known[[2]string{sanitize(c.Realm + "_" + c.Network), sanitize(c.Gateway + "_" + c.Node)}] = c
	}
	return known
}

// sanitize is Kotori's sanitize_db_identifier.
func sanitize(s string) string {
	return strings.ToLower(strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(s))
}

// kotoriChannel maps a line-protocol point to a channel: the fixed one; a
// channel the store has whose Kotori names match; or Kotori's names read
// back (database realm_network, measurement gateway_node_sensors), where
// "-" and "." had become "_" and the first "_" is taken as the separator.
func kotoriChannel(p lineproto.Point, fixed store.Channel, known map[[2]string]store.Channel) (store.Channel, bool, error) {
	isEvent := strings.HasSuffix(p.Measurement, "_events")
	if fixed.Valid() {
		return fixed, isEvent, nil
	}
	if p.Database == "" {
		return store.Channel{}, false, errors.New("no database context (# CONTEXT-DATABASE:) and no --channel")
	}
	m := strings.TrimSuffix(strings.TrimSuffix(p.Measurement, "_sensors"), "_events")
	if ch, ok := known[[2]string{p.Database, m}]; ok {
		return ch, isEvent, nil
	}
	realm, network, ok := strings.Cut(p.Database, "_")
	gateway, node, ok2 := strings.Cut(m, "_")
	if !ok || !ok2 || realm == "" || network == "" || gateway == "" || node == "" {
		return store.Channel{}, false, fmt.Errorf("cannot read a channel from database %q and measurement %q; use --channel", p.Database, p.Measurement)
	}
	return store.Channel{Realm: realm, Network: network, Gateway: gateway, Node: node}, isEvent, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
