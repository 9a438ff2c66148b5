//! The one integration-test target: every test drives the real `orch`
//! binary. A guard test fails when a file in this folder is not a module.

mod agents;
mod align;
mod align_evidence;
mod board;
mod claims;
mod cli;
mod dispatch;
mod dogfood;
mod engine;
mod faults;
mod formats;
mod fuzz;
mod git;
mod handwritten;
mod hardening;
mod hook;
mod hostile;
mod isolate;
mod isolate_dispatch;
mod killloop;
mod lsp;
mod mcp;
mod prime;
mod retry;
mod rules;
mod scope;
mod sheet;
mod transitions;
mod untrusted;
mod util;
mod views;
mod workflow;

#[test]
fn every_test_file_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let main = std::fs::read_to_string(dir.join("main.rs")).expect("read main.rs");
    for entry in std::fs::read_dir(&dir).expect("read tests/it") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(stem) = name.strip_suffix(".rs")
            && stem != "main"
        {
            assert!(
                main.contains(&format!("mod {stem};")),
                "tests/it/{name} is not listed in main.rs"
            );
        }
    }
}
