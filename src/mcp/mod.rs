//! `orch mcp`: the program served to coding agents over the Model Context
//! Protocol, on stdio, with the official Rust SDK (rmcp). One process per
//! agent session: the server holds the program in memory and reads again
//! only the documents that changed between calls ([`cache`]). Its tools
//! ([`tools`]) answer with the JSON of the matching command's `--format
//! json`, and its transitions go through [`crate::transition`] (the orch
//! lock, one commit each), as the command line's do. The cards are also
//! resources ([`server`]).

pub mod cache;
pub mod server;
pub mod tools;

pub use server::serve;
pub use tools::{Context, Tier};
