//! The `strato` binary.

fn main() -> anyhow::Result<()> {
    strato_api::cli::main()
}
