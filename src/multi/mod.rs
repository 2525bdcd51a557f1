//! Many requests from one thread (libcurl's multi interface, HTTPX's AsyncClient).
pub mod exec;
pub mod reactor;
pub mod io;
pub mod net;
pub mod http;
