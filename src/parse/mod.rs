//! Parsing: front matter split, YAML with spans, Markdown body via comrak.
//!
//! Parsers never fail: they return what they found plus the problems they
//! met, and the rules decide what to report.

pub mod frontmatter;
pub mod markdown;
pub mod yaml;
