//! `nemo://timeline` and `nemo://jobs/{id}`, for hosts that show resources.

use crate::app::App;
use crate::tools::TimelineView;
use crate::views::JobView;
use rmcp::model::*;
use rmcp::ErrorData as McpError;

pub fn list(app: &App) -> ListResourcesResult {
    let mut v = vec![Resource::new("nemo://timeline", "timeline")
        .with_description("The current project's timeline (tracks, segments, length)")
        .with_mime_type("application/json")];
    for job in app.jobs.list().into_iter().take(20) {
        v.push(
            Resource::new(format!("nemo://jobs/{}", job.id), format!("job {}", job.id))
                .with_description(format!("{:?} job, {:?}", job.kind, job.status))
                .with_mime_type("application/json"),
        );
    }
    ListResourcesResult::with_all_items(v)
}

pub fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![ResourceTemplate::new(
        "nemo://jobs/{id}",
        "job",
    )
    .with_description("A generation, export or upload job and its result")
    .with_mime_type("application/json")])
}

pub async fn read(app: &App, uri: &str) -> Result<ReadResourceResult, McpError> {
    let json = if uri == "nemo://timeline" {
        let state = app
            .client
            .state()
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        serde_json::to_string_pretty(&TimelineView::of(&state, false))
    } else if let Some(id) = uri.strip_prefix("nemo://jobs/") {
        let job = app.jobs.get(id).ok_or_else(|| {
            McpError::resource_not_found(
                format!("no job {}", id.chars().take(64).collect::<String>()),
                None,
            )
        })?;
        serde_json::to_string_pretty(&JobView::of(&job))
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
