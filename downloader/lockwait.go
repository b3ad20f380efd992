package downloader

// onLockBusy returns the function lockPart calls each time it finds the
// part locked by another process: the first time, it says at info level
// which file is waited for (where it is published) and why, so that a run that seems stuck
// explains itself. Cancelling the run still ends the wait at once.
func (j *job) onLockBusy() func() {
	logged := false
	return func() {
		if !logged {
			logged = true
			j.d.cfg.logger().Info("waiting: another wcdl process is downloading this file and holds its partial file",
				"file", j.r.Path)
		}
		if j.d.lockBusy != nil {
			j.d.lockBusy()
		}
	}
}
