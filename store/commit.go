package store

import "sync"

// maxQueuedReadings bounds the readings waiting for a commit: a flood of
// messages makes writers wait, it does not grow memory.
const maxQueuedReadings = 8192

// writeReq is one Write or WriteAsync call waiting for a commit.
type writeReq struct {
	readings []Reading
	done     chan error  // Write: the commit's result
	onErr    func(error) // WriteAsync: called on failure
}

func (r *writeReq) finish(err error) {
	if r.done != nil {
		r.done <- err
	} else if err != nil && r.onErr != nil {
		r.onErr(err)
	}
}

// committer is the group commit: one goroutine takes every request that
// queued up while the previous commit was running and commits them in one
// batch with one fsync.
type committer struct {
	mu       sync.Mutex
	notEmpty *sync.Cond
	notFull  *sync.Cond
	queue    []*writeReq
	queued   int // readings in queue
	max      int
	closed   bool
	stopped  chan struct{}
	commit   func([]*writeReq) error
}

func newCommitter(max, workers int, commit func([]*writeReq) error) *committer {
	c := &committer{max: max, commit: commit, stopped: make(chan struct{})}
	c.notEmpty = sync.NewCond(&c.mu)
	c.notFull = sync.NewCond(&c.mu)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run()
		}()
	}
	go func() {
		wg.Wait()
		close(c.stopped)
	}()
	return c
}

func (c *committer) enqueue(r *writeReq) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A request larger than the bound still goes in, alone.
	for !c.closed && c.queued > 0 && c.queued+len(r.readings) > c.max {
		c.notFull.Wait()
	}
	if c.closed {
		return ErrClosed
	}
	c.queue = append(c.queue, r)
	c.queued += len(r.readings)
	c.notEmpty.Signal()
	return nil
}

func (c *committer) run() {
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed {
			c.notEmpty.Wait()
		}
		if len(c.queue) == 0 && c.closed {
			c.mu.Unlock()
			return
		}
		reqs := c.queue
		c.queue, c.queued = nil, 0
		c.notFull.Broadcast()
		c.mu.Unlock()

		err := c.commit(reqs)
		for _, r := range reqs {
			r.finish(err)
		}
	}
}

// close commits what is queued and stops; later writes get ErrClosed.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.notEmpty.Broadcast()
	c.notFull.Broadcast()
	c.mu.Unlock()
	<-c.stopped
}

// commitWorkers commit in parallel: while one waits for its fsync, the
// next gathers what queued up meanwhile, and Pebble folds their syncs into
// one.
const commitWorkers = 3
