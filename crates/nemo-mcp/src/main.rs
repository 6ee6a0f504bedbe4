fn main() -> std::process::ExitCode {
    nemo_mcp::main()
}
