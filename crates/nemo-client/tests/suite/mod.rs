//! The suite, one module per area.

mod eventsource_stream;
mod flow;
mod fuzz_regressions;
mod gui_corpus;
mod routing_corpus;
