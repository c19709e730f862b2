package imap

// SetAfterStore installs a hook that runs after a batch's events are stored
// and before its checkpoint is saved: the window a crash test aims at.
func SetAfterStore(in *Ingester, fn func(lastUID uint32) error) { in.afterStore = fn }
