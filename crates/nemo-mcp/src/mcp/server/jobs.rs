//! The job tools: `get_job` (a bounded wait), `list_jobs` and `cancel_job`.

use super::*;

#[tool_router(router = jobs_tools, vis = "pub(super)")]
impl NemoServer {
    #[tool(
        title = "Wait for a job",
        description = "Wait up to 45 s for a job. 「好了吗」",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<JobView>()
    )]
    async fn get_job(
        &self,
        Parameters(args): Parameters<GetJobArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        let id = match check_job_id(&args.job_id) {
            Ok(id) => id,
            Err(e) => return fail(e),
        };
        let app = &self.app_for(&ctx);
        // There, but not this server's to run (a gone process's job it cannot read, or made
        // under another account): left as it was, and said why, never shown as running on.
        let left = |why: String| {
            ToolError::new(
                Code::Interrupted,
                format!("job {id} is in the shared state, but this server cannot read or run it ({why}); it was left as it was, and nothing of it was sent again"),
            )
            .next("finish it in a host that can (a newer nemo-mcp, or one signed in to the account it was made under), then call get_job again")
        };
        if let Some(why) = app.jobs.left_here(id) {
            return fail(left(why));
        }
        match app.jobs.get(id) {
            Some(job) => self.answer(app, job, args.wait_s, &ctx, None).await,
            None => fail(match app.jobs.unreadable(id) {
                Some(why) => left(why),
                None => ToolError::new(Code::UnknownJob, format!("no job {id}"))
                    .next("call list_jobs to see the jobs"),
            }),
        }
    }

    #[tool(
        title = "List jobs",
        description = "Jobs and results, newest first 「任务」",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<JobsView>()
    )]
    async fn list_jobs(
        &self,
        Parameters(args): Parameters<ListJobsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        use crate::mcp::paging;
        let offset = match paging::offset_of(args.cursor.as_deref(), "list_jobs") {
            Ok(o) => o,
            Err(e) => return fail(e),
        };
        let app = self.app_for(&ctx);
        let all: Vec<JobSummary> = app
            .jobs
            .list()
            .iter()
            .map(|job| {
                let mut s = JobSummary::of(job);
                // A gone process's job this server left as it was runs nowhere: said so,
                // as `get_job` says it, never as if it were moving.
                if job.status() == crate::jobs::JobStatus::Running {
                    if let Some(why) = app.jobs.left_here(&job.id) {
                        s.message = format!("left as it was: {why}");
                    }
                }
                s
            })
            .collect();
        let (items, info) = paging::page(all, offset, paging::MAX_ITEMS).split("list_jobs", "jobs");
        let mut text = if info.total == 0 {
            "No jobs yet.".to_string()
        } else {
            String::new()
        };
        for j in &items {
            text.push_str(&format!("- {}\n", j.line()));
        }
        info.push_next_line(&mut text);
        Ok(structured(
            vec![ContentBlock::text(text.trim_end().to_string())],
            &JobsView {
                jobs: items,
                page: info,
            },
        ))
    }

    #[tool(
        title = "Cancel a job",
        description = "Stop a job. 「取消」",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true),
        output_schema = schema_for_output::<JobView>()
    )]
    async fn cancel_job(
        &self,
        Parameters(args): Parameters<JobIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        let id = match check_job_id(&args.job_id) {
            Ok(id) => id,
            Err(e) => return fail(e),
        };
        let app = &self.app_for(&ctx);
        let Some(job) = stop_job(app, id).await else {
            return fail(
                ToolError::new(Code::UnknownJob, format!("no job {id}"))
                    .next("call list_jobs to see the jobs"),
            );
        };
        if job.status().is_finished() {
            let note = Some("This job had already finished; nothing was stopped.".to_string());
            return self.answer(app, job, Some(0.0), &ctx, note).await;
        }
        if let Some(note) = variants::cancelled_set_note(app, &job) {
            return self.answer(app, job, Some(5.0), &ctx, Some(note)).await;
        }
        let sent_turn = job
            .generation_data()
            .is_some_and(|g| g.state_before.is_some())
            || job.video_plan().is_some_and(|p| p.generate.is_some());
        let note = sent_turn.then(|| CANCELLED_TURN_NOTE.to_string());
        self.answer(app, job, Some(5.0), &ctx, note).await
    }
}
