//! `doi178-server`: thin entry point; everything lives in the library.

fn main() -> std::process::ExitCode {
    doi178_server::cli::main()
}
