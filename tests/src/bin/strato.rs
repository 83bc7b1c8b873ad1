//! The `strato` binary, built by the test crate too so that the end-to-end
//! suite can run the real server as a process (`CARGO_BIN_EXE_strato`).

fn main() -> anyhow::Result<()> {
    strato_api::cli::main()
}
