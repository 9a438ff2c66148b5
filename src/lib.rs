//! `orch`: lint, dispatch and record an orchestration playbook for parallel
//! coding agents, kept as Markdown with YAML front matter under
//! `.orchestrator/`.
//!
//! Module map: `source` (files and spans), `parse` (front matter, YAML,
//! Markdown), `model` (typed documents and the program), `config`, `rules`
//! (the rule trait, registry and rule families), `diagnostic` (plain data),
//! `report` (emitters: human, json), `lsp` (the language server), `cli` (clap and the subcommands),
//! `error` (operational failures and exit codes).

pub mod agent;
pub mod align;
pub mod board;
pub mod claims;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod dispatch;
pub mod engine;
pub mod error;
pub mod fsx;
pub mod git;
pub mod isolate;
pub mod lsp;
pub mod mcp;
pub mod model;
pub mod parse;
pub mod prime;
pub mod query;
pub mod report;
pub mod rules;
pub mod schema;
pub mod scope;
pub mod sheet;
pub mod source;
pub mod transition;
pub mod util;
