pub struct Store {
    pub path: String,
}

// ANCHOR: open
pub fn open(path: &str) -> Store {
    Store { path: path.to_string() }
}
// ANCHOR_END: open
