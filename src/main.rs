use std::process::ExitCode;

// Parsing allocates many small nodes per document; mimalloc makes that
// markedly cheaper than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let result = orch::cli::run();
    if let Err(e) = &result
        && !e.is_broken_pipe()
    {
        eprintln!("error: {e}");
        if let Some(help) = e.help() {
            eprintln!("help: {help}");
        }
    }
    orch::error::exit_code(&result)
}
