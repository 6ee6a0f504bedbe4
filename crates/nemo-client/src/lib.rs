#![doc = include_str!("../README.md")]

mod api;
pub mod auth;
mod client;
pub mod config;
pub mod envelope;
mod error;
pub mod files;
pub mod gui;
pub mod limits;
pub mod network;
pub mod recovery;
pub mod routing;
pub mod session;
pub mod sse;
pub mod state;
pub mod text;
pub mod validate;
mod wire;

pub use api::account::Credits;
pub use api::agent::{AgentStream, TurnReply};
pub use api::project::Project;
pub use api::render::{part_path, PollClock, RenderId, RenderState, RenderStatus, RenderWait};
pub use api::upload::{sha256_file, sha256_media, UploadProgress, Uploaded};
pub use auth::{Token, TokenSource};
pub use client::Client;
pub use config::{Attribution, Config, Profile, Timeouts};
pub use error::{Error, ProxyProblem, Result, ACCEPTED_EXTENSIONS};
pub use network::{NetworkSettings, ProxyRules, TrustSettings};
pub use recovery::{Recovered, RecoveryWaits};
pub use session::{Session, SessionId};
pub use sse::AgentEvent;
pub use state::{Segment, SessionState, Timeline, TimelineDiff, Track, TrackKind};
pub use validate::{MediaFile, MediaKind, Rejection};
