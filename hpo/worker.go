package hpo

import "time"

// ---- workers ----

func (r *runner) worker() {
	defer r.wg.Done()
	for j := range r.jobs {
		if r.e.Remote != nil {
			r.done <- r.runRemote(j)
			continue
		}
		r.done <- r.runJob(j)
	}
}

// runJob carries out job j in this process (trainJob), keeping the
// trainable for the trial's next job.
func (r *runner) runJob(j *job) outcome {
	if j.failed != nil {
		return outcome{job: j, t: j.t, err: j.failed}
	}
	t, res, ckpt, trialErr, fatal := trainJob(r.wctx, r.st, r.e.Factory, r.e.Metric.Name, jobSpec{
		id: j.id, cfg: j.cfg, t: j.t, reconfigure: j.reconfigure, restore: j.restore, until: j.until})
	return outcome{job: j, t: t, res: res, ckpt: ckpt, err: trialErr, fatal: fatal}
}

func (r *runner) shutdown() {
	if !r.isLive {
		return
	}
	r.wcancel()
	close(r.jobs)
	for ; r.running > 0; r.running-- {
		r.discard(<-r.done)
	}
	for id, o := range r.early {
		r.discard(o)
		delete(r.early, id)
	}
	r.wg.Wait()
}

// discard drops the outcome of a job interrupted by the end of the run. On
// compute time a job may really have finished, checkpoint included, when
// the time budget cancels it (it would end after the budget): its
// checkpoint, never journaled, is deleted.
func (r *runner) discard(o outcome) {
	if o.t != nil {
		o.t.Close()
	}
	if r.virtual() && o.ckpt != "" && !r.e.KeepCheckpoints && o.fatal == nil && o.err == nil {
		if t := r.trials[o.job.id]; t.Checkpoint != o.ckpt {
			r.st.RemoveCheckpoint(r.sctx, o.ckpt)
		}
	}
}

func (r *runner) dispatch(j *job) {
	if r.virtual() {
		// The job starts now, on the slot that the last input freed (or
		// one idle since), and takes its compute time.
		var cost time.Duration
		if j.failed == nil {
			cost = max(r.e.Cost(j.cfg, r.trials[j.id].Budget, j.until), 0)
		}
		j.end = r.now + cost
	}
	r.inflight[j.id] = j
	if r.isLive {
		r.launch(j)
	} else {
		r.order = append(r.order, j.id)
	}
}

func (r *runner) launch(j *job) {
	j.launched = true
	r.running++
	r.jobs <- j
}
