//! Event hooks (HTTPX `event_hooks={"request": [...], "response": [...]}`), run in
//! registration order. A hook that returns an error aborts the send with it.

use std::sync::Arc;

use crate::error::Result;
use crate::request::Request;
use crate::response::Response;

pub type RequestHook = Arc<dyn Fn(&mut Request) -> Result<()> + Send + Sync>;
pub type ResponseHook = Arc<dyn Fn(&mut Response) -> Result<()> + Send + Sync>;

#[derive(Clone, Default)]
pub struct EventHooks {
    pub request: Vec<RequestHook>,
    pub response: Vec<ResponseHook>,
}
