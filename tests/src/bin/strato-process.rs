//! The `strato` command line under another name (a second `strato` binary
//! would collide with the api crate's): the test crate builds it so that the
//! end-to-end suite can run the real server as a process
//! (`CARGO_BIN_EXE_strato-process`), to kill it or send it signals.

fn main() -> anyhow::Result<()> {
    strato_api::cli::main()
}
