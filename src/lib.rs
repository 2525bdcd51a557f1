//! libhttpx: HTTPX's client in Rust, with a C ABI (`src/ffi`).
//!
//! The core is safe Rust with an API of its own: [`Client`], [`Request`],
//! [`Response`], [`ClientConfig`]. Module map: `pool` (one connection pool for
//! HTTP/1.1 and HTTP/2), `connect` (dialing as a chain: tcp, unix, proxy, socks,
//! tunnel, tls),
//! `connection` (TCP/Unix/TLS streams), `http1` (wire protocol), `tls` (rustls),
//! `proxy` (forward, CONNECT, SOCKS), `auth` (Basic, Digest, custom flows),
//! `cookies`, `decoding`, `multipart`, `netrc`, `routing` (mount/proxy keys),
//! `transport` (network and callback transports), `client` (merging, redirects),
//! `types` (the small value types every layer shares). Layers and features: README.

#![deny(unsafe_code)]

pub mod auth;
pub mod cancel;
pub mod charset;
pub mod client;
pub mod config;
pub mod connect;
pub mod connection;
pub mod cookies;
pub mod deadline;
pub mod debug;
pub mod decoding;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod headers;
pub mod hooks;
pub mod http1;
#[cfg(feature = "http2")]
pub mod http2;
/// Without the `http2` feature: the same names, refusing `http2: true`.
#[cfg(not(feature = "http2"))]
#[path = "http2_off.rs"]
pub mod http2;
pub mod info;
pub mod multi;
pub mod multipart;
pub mod netrc;
pub mod observe;
pub mod pool;
pub mod proxy;
pub mod request;
pub mod response;
pub mod routing;
pub mod status;
pub mod tls;
pub mod transport;
pub mod types;
pub mod urls;

pub use client::Client;
pub use config::{ClientConfig, Limits, Timeouts};
pub use error::{Error, Result};
pub use request::{Body, Request};
pub use response::Response;
#[cfg(feature = "capi")]
pub mod ffi;

/// The header cbindgen generated for this build (compared with the committed
/// `include/httpx.h` by the drift test).
#[cfg(feature = "capi")]
#[doc(hidden)]
pub const GENERATED_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/httpx.h"));
