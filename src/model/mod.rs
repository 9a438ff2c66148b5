//! The typed document model: five kinds of document parsed from Markdown
//! with YAML front matter, the template each follows, and the program they
//! form together.

pub mod document;
pub mod lists;
pub mod program;
pub mod scope;
pub mod status;
pub mod templates;
pub mod views;

pub use document::{Document, Front, FrontMatter, Section};
pub use program::{Index, Program, Task};
pub use status::{Kind, Outcome, PlanStatus, TaskStatus};
