fn main() -> std::process::ExitCode {
    nemo_mcp::cli::main()
}
