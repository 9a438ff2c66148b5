//! The git module (`src/git`) is a library API, tested by unit tests in
//! `src/git/tests.rs` that build real repositories with the `git` binary and
//! check every commit with it (`cargo test --lib git`). Nothing here yet.
