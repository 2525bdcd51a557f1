//! Chain step: a Unix domain socket (HTTPX `uds=`), in place of TCP to the origin.
//! The request still names the URL's host; TLS, when the URL is https, runs over it.

use std::path::Path;

use crate::connection::{self, Stream};
use crate::deadline::Guard;
use crate::error::Result;

/// Connect to the socket at `path`.
pub fn connect(path: &Path, guard: &Guard) -> Result<Stream> {
    guard.check()?;
    let mut s = Stream::unix(connection::connect_unix(path)?)?;
    s.set_guard(guard);
    Ok(s)
}
