//! `nemo://timeline`, `nemo://jobs/{id}` and `nemo://exports/{job_id}`, for hosts that show
//! resources. An export's resource is what its `resource_link` points to: readable through the
//! server by any host, also one on another machine over `--http` (a `file://` link is not).

use crate::app::App;
use crate::mcp::tools::TimelineView;
use crate::mcp::views::JobView;
use rmcp::model::*;
use rmcp::ErrorData as McpError;

/// The library's projects, most recently used first, with what each cost and whether its
/// exports are still on disk: `list_projects` and `nemo://projects`.
pub async fn projects(app: &App, limit: usize) -> Vec<crate::project::library::ProjectView> {
    let current = app.project.peek().await.map(|s| s.session_id);
    let account = app.account();
    app.library.list(limit, current, account.as_deref(), |id| {
        app.spend.spent_in_project(id)
    })
}

pub fn list(app: &App) -> ListResourcesResult {
    let mut v = vec![
        Resource::new("nemo://timeline", "timeline")
            .with_description(
                "The current project's timeline (tracks, segments, length, raw draft)",
            )
            .with_mime_type("application/json"),
        Resource::new("nemo://projects", "projects")
            .with_description("The projects this installation made or opened, newest first")
            .with_mime_type("application/json"),
    ];
    for job in app.jobs.recent(20) {
        if let Some(e) = ExportView::of(&job) {
            v.push(e.resource());
        }
        v.push(
            Resource::new(format!("nemo://jobs/{}", job.id), format!("job {}", job.id))
                .with_description(format!("{:?} job, {:?}", job.kind(), job.status()))
                .with_mime_type("application/json"),
        );
    }
    ListResourcesResult::with_all_items(v)
}

pub fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new("nemo://jobs/{id}", "job")
            .with_description("A generation, export or upload job and its result")
            .with_mime_type("application/json"),
        ResourceTemplate::new("nemo://exports/{job_id}", "export")
            .with_description(
                "A saved MP4: where it is on this machine, NemoVideo's https URL, size and length",
            )
            .with_mime_type("application/json"),
    ])
}

/// A finished export, as its resource tells it.
#[derive(serde::Serialize)]
pub struct ExportView {
    pub job_id: String,
    /// The MP4 on the machine that runs the server.
    pub path: String,
    pub file_uri: String,
    /// NemoVideo's URL of the file (reachable from anywhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
}

impl ExportView {
    pub fn of(job: &crate::jobs::Job) -> Option<ExportView> {
        let r = job.export_data()?.outcome.result()?;
        Some(ExportView {
            job_id: job.id.clone(),
            file_uri: crate::files::outputs::file_uri(std::path::Path::new(&r.path)),
            path: r.path.clone(),
            url: r.url.clone(),
            size_bytes: Some(r.size_bytes),
            duration_s: r.duration_s,
        })
    }

    pub fn resource(&self) -> Resource {
        let name = std::path::Path::new(&self.path)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| self.job_id.clone());
        let mut r = Resource::new(crate::mcp::views::export_uri(&self.job_id), name)
            .with_description("An exported MP4: its local path and NemoVideo's https URL")
            .with_mime_type("application/json");
        if let Some(size) = self.size_bytes {
            r = r.with_size(size);
        }
        r
    }
}

pub async fn read(app: &App, uri: &str) -> Result<ReadResourceResult, McpError> {
    let json = if uri == "nemo://timeline" {
        let state = app
            .current_state()
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        // With the raw draft: a host or user reading the resource wants all of it; the tool's
        // answer, read by the model on every turn, stays short.
        serde_json::to_string_pretty(&TimelineView::of(&state, true))
    } else if uri == "nemo://projects" {
        serde_json::to_string_pretty(&projects(app, 100).await)
    } else if let Some(id) = uri.strip_prefix("nemo://exports/") {
        let export = app
            .jobs
            .get(id)
            .as_ref()
            .and_then(ExportView::of)
            .ok_or_else(|| {
                McpError::resource_not_found(
                    format!(
                        "no finished export {}",
                        id.chars().take(64).collect::<String>()
                    ),
                    None,
                )
            })?;
        serde_json::to_string_pretty(&export)
    } else if let Some(id) = uri.strip_prefix("nemo://jobs/") {
        let job = app.jobs.get(id).ok_or_else(|| {
            McpError::resource_not_found(
                format!("no job {}", id.chars().take(64).collect::<String>()),
                None,
            )
        })?;
        // What a tool's answer about the job holds, held to the same size: a host may put
        // the resource before its model, and a backend's words can be any length.
        let mut view = serde_json::to_value(JobView::of(&job)).unwrap_or_default();
        crate::mcp::fit::structured(&mut view, crate::mcp::fit::STRUCTURED_BUDGET);
        serde_json::to_string_pretty(&view)
    } else {
        return Err(McpError::resource_not_found(
            "unknown resource; see resources/list",
            None,
        ));
    };
    let text = json.map_err(|e| McpError::internal_error(e.to_string(), None))?;
    Ok(ReadResourceResult::new(vec![ResourceContents::text(
        text, uri,
    )
    .with_mime_type("application/json")]))
}
