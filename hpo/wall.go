package hpo

import (
	"context"
	"fmt"
	"time"
)

// wallState is the wall clock of a live run: experiment time is the time
// of earlier sessions (offset) plus the wall time since this one went live
// (start), and timer fires when the time budget runs out.
type wallState struct {
	offset time.Duration
	start  time.Time
	timer  <-chan time.Time
}

// experimentTime is the live run's experiment time now.
func (r *runner) experimentTime() time.Duration {
	return r.offset + r.clock.Now().Sub(r.start)
}

// nextWall is nextInput on the wall clock: while replaying, the journal's
// next input; live, the first job to finish, or the end of the time
// budget (the timer), at the experiment time it happens.
func (r *runner) nextWall(ctx context.Context) (input, error) {
	if r.replaying() {
		e, err := r.replayedInput()
		if err != nil {
			return input{}, err
		}
		return r.consume(e), nil
	}
	if err := r.live(); err != nil {
		return input{}, err
	}
	if r.running == 0 {
		return input{}, fmt.Errorf("hpo: internal: waiting with no running trial")
	}
	select {
	case o := <-r.done:
		r.running--
		if err := fatal(o); err != nil {
			return input{}, err
		}
		r.now = max(r.experimentTime(), r.now)
		return r.take(o)
	case <-r.timer:
		return r.timeout(max(r.experimentTime(), r.now))
	case <-ctx.Done():
		return input{}, ctx.Err()
	}
}
