package httpx

// HaveCancel tells tests whether the library has cancel tokens (without them
// a context cannot interrupt a wait for a response head or a stalled read).
const HaveCancel = haveCancel

// HaveInfo tells tests whether the library reports connection info and timings.
const HaveInfo = haveInfo

// LiveHandles is the number of userdata handles the library has not released.
func LiveHandles() int64 { return liveHandles.Load() }
