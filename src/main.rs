use std::process::ExitCode;

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
