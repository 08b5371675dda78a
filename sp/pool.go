package sp

import "sync"

// workerPool runs syscalls on a bounded set of goroutines, keeping a few
// idle ones around the way the C server keeps idle worker threads. submit
// never blocks: when every worker is busy the caller answers TRYAGAIN.
type workerPool struct {
	tasks   chan func()
	quit    chan struct{} // closed by stopIdle: idle workers end
	stop    sync.Once
	mu      sync.Mutex
	running int // workers alive, busy or idle
	idle    int
	max     int
	maxIdle int
}

func newWorkerPool(max, maxIdle int) *workerPool {
	return &workerPool{tasks: make(chan func()), quit: make(chan struct{}), max: max, maxIdle: maxIdle}
}

// submit hands f to an idle worker or starts one; false means saturated.
func (p *workerPool) submit(f func()) bool {
	select {
	case p.tasks <- f:
		return true
	default:
	}
	p.mu.Lock()
	if p.running >= p.max {
		p.mu.Unlock()
		return false
	}
	p.running++
	p.mu.Unlock()
	go p.work(f)
	return true
}

func (p *workerPool) work(f func()) {
	for {
		f()
		p.mu.Lock()
		if p.idle >= p.maxIdle {
			p.running--
			p.mu.Unlock()
			return
		}
		p.idle++
		p.mu.Unlock()
		var ok bool
		select {
		case f = <-p.tasks:
			ok = true
		case <-p.quit:
		}
		p.mu.Lock()
		p.idle--
		if !ok {
			p.running--
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// stopIdle ends the idle workers; busy ones end after their task. Idle
// workers wait on quit as well as on tasks, so one that has counted itself
// idle but not yet reached its receive still sees the stop (a non-blocking
// send of a no-op task, as before, missed it and the worker leaked).
func (p *workerPool) stopIdle() {
	p.mu.Lock()
	p.maxIdle = 0
	p.mu.Unlock()
	p.stop.Do(func() { close(p.quit) })
}
