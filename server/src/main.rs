//! `doi178-server`: thin entry point; everything lives in the library.

/// mimalloc instead of the system allocator: under load (hundreds of phones) glibc's malloc and
/// free were about a tenth of the server's CPU (BENCHMARKS.md, "Load").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    doi178_server::cli::main()
}
