//! Files on the user's machine: which local paths and URLs a caller may hand in (the allowed
//! folders, symlinks, sizes, kinds), how inputs are checked before anything is uploaded, and
//! where outputs go (names that never overwrite, the output folder checked before a paid step),
//! what an exported MP4 is ([`mp4`]: length, size, sound, checked against the request) and the
//! captions written beside it ([`captions`]).

pub mod captions;
pub mod mp4;
pub mod outputs;
pub mod paths;
pub mod uploads;
