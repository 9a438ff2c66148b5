//! The closed vocabularies: document kinds, task statuses, plan statuses and
//! ledger results, each with its spelling and the transition table.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parse the exact spelling.
            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Every spelling, for messages: `a`, `b`, `c`.
            pub fn spellings() -> String {
                Self::ALL.iter().map(|v| format!("`{}`", v.as_str())).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// The five document kinds.
    Kind { Plan = "plan", Ticket = "ticket", Card = "card", Ledger = "ledger", Sheet = "sheet" }
}

vocabulary! {
    /// A task's status, stored in its ticket's front matter.
    TaskStatus {
        Todo = "todo",
        InProgress = "in_progress",
        Done = "done",
        Partial = "partial",
        Failed = "failed",
        Blocked = "blocked",
        Split = "split",
        Cancelled = "cancelled",
    }
}

vocabulary! {
    /// The Master Plan's status.
    PlanStatus { Draft = "draft", Active = "active", Done = "done", Abandoned = "abandoned" }
}

vocabulary! {
    /// A ledger row's result.
    Outcome { Pass = "pass", Partial = "partial", Fail = "fail" }
}

impl Outcome {
    /// Result cells accept any case and a code span: `PASS`, `` `pass` ``.
    pub fn parse_cell(text: &str) -> Option<Outcome> {
        Outcome::parse(&text.trim().trim_matches('`').trim().to_ascii_lowercase())
    }

    /// The status a task takes when this result is recorded.
    pub fn status(self) -> TaskStatus {
        match self {
            Outcome::Pass => TaskStatus::Done,
            Outcome::Partial => TaskStatus::Partial,
            Outcome::Fail => TaskStatus::Failed,
        }
    }
}

impl TaskStatus {
    /// The transitions DESIGN 2 allows from this status.
    pub fn next(self) -> &'static [TaskStatus] {
        use TaskStatus::*;
        match self {
            Todo => &[InProgress, Blocked, Cancelled],
            InProgress => &[Done, Partial, Failed, Blocked],
            Partial => &[InProgress, Split],
            Failed => &[InProgress, Cancelled],
            Blocked => &[Todo, InProgress],
            Done | Split | Cancelled => &[],
        }
    }

    pub fn can_move_to(self, to: TaskStatus) -> bool {
        self.next().contains(&to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Outcome::parse_cell(" `PASS` "), Some(Outcome::Pass));
        assert_eq!(Outcome::parse_cell("passed"), None);
    }

    #[test]
    fn transitions_follow_the_table() {
        assert!(TaskStatus::Todo.can_move_to(TaskStatus::InProgress));
        assert!(!TaskStatus::Todo.can_move_to(TaskStatus::Done));
        assert!(TaskStatus::Partial.can_move_to(TaskStatus::Split));
        assert!(TaskStatus::Done.next().is_empty());
    }
}
