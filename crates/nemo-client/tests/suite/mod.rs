//! The suite, one module per area.

mod account;
mod eventsource_stream;
mod flow;
mod fuzz_regressions;
mod gui_corpus;
mod http_faults;
mod routing_corpus;
mod stream_faults;
