//! The protocol room: tool definitions and answers, bad input, tasks, host features, the player view, the manifest.

mod bad_input;
mod definitions;
mod host_features;
mod manifest;
mod player;
mod result_sizes;
mod tasks;
mod tool_list;
mod tools;
