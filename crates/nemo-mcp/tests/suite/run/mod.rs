//! What jobs do: generation, make_video, variants, restarts, concurrency and the fault matrix.

mod checked_done;
mod concurrency;
mod faults;
mod file_checks;
mod fix_round;
mod generation;
mod lengths;
mod lost_project;
mod make_video;
mod make_video_faults;
mod restart;
mod takeover;
mod variants;
mod variants_unkind;
