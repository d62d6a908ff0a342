package store

import (
	"sync"
	"time"
)

// rollupCache keeps, decoded, the rollup blocks that direct seals (bulk
// writes of closed hours: an import, a device's backlog) wrote last, so
// that the next batch of the same channel does not read and decode them
// again: a bulk write rewrites a channel's hourly and daily blocks once
// per batch, and decoding them was a fifth of its CPU.
//
// The cache never holds a block that differs from the one on disk: a seal
// takes a block out before it changes it and gives it back only after its
// batch is committed, and whatever else rewrites rollup blocks (retention,
// deletions) runs under sealMu's write lock and empties the cache. A
// background seal takes blocks out and does not give them back: the
// appliance's hourly seal touches every channel once an hour, which no
// small cache would serve, so it keeps no memory for it.
type rollupCache struct {
	mu     sync.Mutex
	max    int // bytes of decoded blocks held at most
	bytes  int
	blocks map[rollupID]*cachedRollup
}

type rollupID struct {
	chanID uint32
	res    byte
	start  int64
}

type cachedRollup struct {
	blk   rollupBlock
	bytes int
	used  time.Time
}

// rollupCacheBytes bounds the cache: a block of 10 series takes about
// 50 KiB decoded, and a bulk write of 10 channels keeps two or three
// blocks of each in use.
const rollupCacheBytes = 4 << 20

// rollupCacheIdle is how long an unused block stays: the cache serves a
// bulk write while it runs, not the appliance's steady state.
const rollupCacheIdle = time.Minute

// take removes the block and returns it, if the cache has it.
func (c *rollupCache) take(id rollupID) (rollupBlock, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.blocks[id]
	if !ok {
		return nil, false
	}
	delete(c.blocks, id)
	c.bytes -= e.bytes
	return e.blk, true
}

// give puts a block that is now on disk into the cache, evicting the least
// recently given blocks beyond the cache's size.
func (c *rollupCache) give(id rollupID, blk rollupBlock, now time.Time) {
	size := blockBytes(blk)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.blocks[id]; ok {
		c.bytes -= old.bytes
		delete(c.blocks, id)
	}
	if size > c.max {
		return
	}
	if c.blocks == nil {
		c.blocks = map[rollupID]*cachedRollup{}
	}
	c.blocks[id] = &cachedRollup{blk: blk, bytes: size, used: now}
	c.bytes += size
	for c.bytes > c.max {
		var oldest rollupID
		var at time.Time
		for k, e := range c.blocks {
			if at.IsZero() || e.used.Before(at) {
				oldest, at = k, e.used
			}
		}
		c.bytes -= c.blocks[oldest].bytes
		delete(c.blocks, oldest)
	}
}

// expire drops the blocks given before cutoff.
func (c *rollupCache) expire(cutoff time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.blocks {
		if e.used.Before(cutoff) {
			c.bytes -= e.bytes
			delete(c.blocks, k)
		}
	}
}

// clear empties the cache; callers hold sealMu's write lock (or close
// the store).
func (c *rollupCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.blocks)
	c.bytes = 0
}

// blockBytes estimates the memory of a decoded block.
func blockBytes(blk rollupBlock) int {
	const bucketSize = 72 // time.Time (24) + 6 × 8
	n := 64
	for _, slots := range blk {
		n += 48 + len(slots)*bucketSize
	}
	return n
}
