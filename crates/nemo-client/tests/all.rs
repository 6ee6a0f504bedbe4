//! nemo-client's integration tests, one binary: the quick edit against nemo-sim under every
//! variant and fault (`flow`), the SSE decoder against another implementation, the corpora
//! written from the seeds, and the fuzzers' regressions. `cargo test -p nemo-client --test all <filter>`.

mod suite;
