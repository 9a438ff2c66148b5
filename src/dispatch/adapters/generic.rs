//! The generic adapter: an agent with no event stream orch knows. It is
//! judged by its exit code and timeouts, its changes are what changed in
//! its folder while it ran, its evidence is the log lines matching the
//! config's `evidence` patterns, and its completion report is the last
//! JSON object in its final-message file or the tail of its log (the
//! prompt describes the schema). It reports no commands, so a card's checks
//! are never seen passing: with checks, a generic run is at best `partial`.

use serde_json::Value;

use super::Adapter;
use crate::dispatch::event::Event;

/// Reads nothing from the stream (the generic kind has no reader; this
/// exists for a caller that wants an adapter whatever the kind).
#[derive(Default)]
pub struct Generic;

impl Adapter for Generic {
    fn event(&mut self, _event: &Value, _out: &mut Vec<Event>) {}
}
