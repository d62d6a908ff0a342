package store

import (
	"encoding/binary"
	"errors"
	"time"
)

// Key spaces. Every key starts with one of these bytes, so that each kind of
// record is one contiguous range of the keyspace.
//
// Readings arrive as one record per reading, keyed by channel, then time
// (big-endian, sign bit flipped): one key for all of a reading's fields, so
// that a message costs one write, and a second write of the same channel
// at the same time merges into the first (which is what makes a
// redelivered QoS 1 message harmless). Once an hour is closed its records
// are sealed into one compressed chunk for the channel and hour, and the
// hour's rollups are computed.
const (
	prefixMeta    byte = 0x00 // 0x00 | name                        -> value
	prefixChannel byte = 0x01 // 0x01 | channel id                  -> channel descriptor
	prefixSeries  byte = 0x02 // 0x02 | series id                   -> series descriptor
	prefixRecent  byte = 0x03 // 0x03 | channel id | time           -> record (one reading)
	prefixChunk   byte = 0x04 // 0x04 | channel id | hour           -> chunk (an hour, columns, zstd)
	prefixEvent   byte = 0x05 // 0x05 | channel id | time           -> event (JSON)
	prefixError   byte = 0x06 // 0x06 | hash of dedup key           -> error entry (JSON)
	prefixProp    byte = 0x07 // 0x07 | channel id | name           -> value
	prefixRollup  byte = 0x08 // 0x08 | channel id | res | block    -> rollup block (zstd)
	prefixSummary byte = 0x09 // 0x09 | series id                   -> first, last, last value of sealed data
)

// formatVersion is stored under the meta key "format"; Open refuses a store
// written in a format it does not know. Format 3 brought records of format
// 2 (see appendRecord), which an Apiary of format 2 would read as empty;
// format 4 brought Rice-coded columns in chunks and rollup blocks
// (rice.go), which an Apiary of format 3 cannot decode. Open upgrades a
// store of an older format by writing the new one, so that an older
// binary refuses it at once instead of failing on its newer blocks.
const formatVersion = "4"

// upgradableFormats are the formats Open upgrades to formatVersion: their
// records, chunks and rollup blocks are all still read.
var upgradableFormats = []string{"2", "3"}

func encodeTime(t time.Time) uint64 { return uint64(t.UnixNano()) ^ (1 << 63) }

func decodeTime(u uint64) time.Time { return time.Unix(0, int64(u^(1<<63))).UTC() }

// pointKey is prefix | id | time.
func pointKey(prefix byte, id uint32, t time.Time) []byte {
	k := make([]byte, 13)
	k[0] = prefix
	binary.BigEndian.PutUint32(k[1:5], id)
	binary.BigEndian.PutUint64(k[5:13], encodeTime(t))
	return k
}

// idKey is prefix | id, also the lower bound of that id's points.
func idKey(prefix byte, id uint32) []byte {
	k := make([]byte, 5)
	k[0] = prefix
	binary.BigEndian.PutUint32(k[1:5], id)
	return k
}

// rangeBounds returns [lower, upper) keys for an id's points in [from, to].
func rangeBounds(prefix byte, id uint32, from, to time.Time) (lower, upper []byte) {
	lower = pointKey(prefix, id, from)
	upper = pointKey(prefix, id, to)
	// Make "to" inclusive: the next key after upper's time.
	upper = incrementKey(upper)
	return lower, upper
}

// incrementKey returns the smallest key greater than every key with prefix k.
func incrementKey(k []byte) []byte {
	out := append([]byte(nil), k...)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]++
		if out[i] != 0 {
			return out[:i+1]
		}
	}
	return nil // k was all 0xff: no upper bound
}

func keyTime(k []byte) time.Time { return keyTimeAt(k, 5) }

// keyTimeAt reads the time encoded at offset of a key.
func keyTimeAt(k []byte, offset int) time.Time {
	return decodeTime(binary.BigEndian.Uint64(k[offset : offset+8]))
}

// Descriptors are length-prefixed strings: uvarint length, then bytes.

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errCorrupt = errors.New("store: corrupt descriptor")

func readString(b []byte) (string, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return "", nil, errCorrupt
	}
	return string(b[w : w+int(n)]), b[w+int(n):], nil
}

func encodeChannel(c Channel) []byte {
	var b []byte
	for _, p := range []string{c.Realm, c.Network, c.Gateway, c.Node} {
		b = appendString(b, p)
	}
	return b
}

func decodeChannel(b []byte) (Channel, error) {
	var parts [4]string
	var err error
	for i := range parts {
		if parts[i], b, err = readString(b); err != nil {
			return Channel{}, err
		}
	}
	return Channel{parts[0], parts[1], parts[2], parts[3]}, nil
}

// Series descriptor: channel id, kind, field name.
func encodeSeries(chanID uint32, kind FieldKind, name string) []byte {
	b := binary.BigEndian.AppendUint32(nil, chanID)
	b = append(b, byte(kind))
	return appendString(b, name)
}

func decodeSeries(b []byte) (chanID uint32, kind FieldKind, name string, err error) {
	if len(b) < 5 {
		return 0, 0, "", errCorrupt
	}
	chanID = binary.BigEndian.Uint32(b)
	kind = FieldKind(b[4])
	name, _, err = readString(b[5:])
	return chanID, kind, name, err
}
