//! Every request of every endpoint compared with the seeds' literal forms.

mod request_forms;
