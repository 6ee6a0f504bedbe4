//! The seeds' three workflows as prompts: quick edit, batch, iterative.

use rmcp::model::*;
use rmcp::ErrorData as McpError;

pub fn list() -> ListPromptsResult {
    let files = || {
        PromptArgument::new("files")
            .with_description("Absolute paths of the images/clips, comma separated")
    };
    let goal = || {
        PromptArgument::new("goal")
            .with_description("What the video should be")
            .with_required(true)
    };
    let titled = |mut p: Prompt, title: &str| {
        p.title = Some(title.to_string());
        p
    };
    ListPromptsResult::with_all_items(vec![
        titled(
            Prompt::new(
                "quick_edit",
                Some("Turn a few photos or clips and one sentence into a finished MP4: upload, one AI edit (about 50 credits), export to the output folder."),
                Some(vec![files(), goal()]),
            ),
            "Quick video from files",
        ),
        titled(
            Prompt::new(
                "batch",
                Some("Make one video per set of files, each in its own project, and report every saved MP4 (credits per video)."),
                Some(vec![files(), goal()]),
            ),
            "Several videos in a row",
        ),
        titled(
            Prompt::new(
                "iterative",
                Some("Build a video edit by edit, reading the timeline between instructions, and export when it is right."),
                Some(vec![goal()]),
            ),
            "Refine a video step by step",
        ),
    ])
}

fn arg(args: Option<&JsonObject>, k: &str) -> String {
    args.and_then(|a| a.get(k))
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .chars()
        .take(2000)
        .collect()
}

pub fn get(name: &str, args: Option<&JsonObject>) -> Result<GetPromptResult, McpError> {
    let files = arg(args, "files");
    let goal = arg(args, "goal");
    let text = match name {
        "quick_edit" => format!(
            "Make this video with the NemoVideo tools: {goal}\n\
             Call make_video once, with paths [{files}] and the description as the instruction: it \
             uploads, generates and exports. If it answers status \"running\", call get_job with \
             its job_id (it waits by itself) until it is done, then tell me the saved path."
        ),
        "batch" => format!(
            "Make one video per set of files: {goal}\nFiles: {files}\n\
             For each set: connect with new_project=true, then make_video with the set's files. \
             Report each saved path. Follow running jobs with get_job; do not start two generations in one project."
        ),
        "iterative" => format!(
            "Let's build this video step by step: {goal}\n\
             After each generate, show me the changes and the timeline (get_timeline) and ask what to change next. \
             Export with export_video only when I say it is done. Check get_credits if an edit is refused."
        ),
        _ => return Err(McpError::invalid_params(format!("no prompt {:?}", name.chars().take(40).collect::<String>()), None)),
    };
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(name.to_string()),
    )
}
