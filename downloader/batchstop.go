package downloader

// stopCause is the error of the entries a batch stop interrupted or never
// started: errors.Is and errors.As find the failure that stopped the batch,
// but the message only names its kind, since Run returns that failure once
// and the caller reports it once, not once per file.
type stopCause struct{ err error }

func (e *stopCause) Error() string {
	if isStorageFull(e.err) {
		return "the batch stopped: the output file system is full or read-only"
	}
	return "the batch stopped on an authentication failure"
}

func (e *stopCause) Unwrap() error { return e.err }
