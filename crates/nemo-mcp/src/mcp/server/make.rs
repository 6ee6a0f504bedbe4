//! The making tools: `upload_media`, `generate` (paid) and `make_video` (paid; with `variants`, a set: `variants.rs`).

use super::*;

#[tool_router(router = make_tools, vis = "pub(super)")]
impl NemoServer {
    #[tool(
        title = "Upload media",
        description = "Add images, videos or audio. 「上传」",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobAnswer<UploadResult>>()
    )]
    async fn upload_media(
        &self,
        Parameters(args): Parameters<UploadArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        let paths = args.paths.unwrap_or_default();
        let urls_in = args.urls.unwrap_or_default();
        let CheckedInputs {
            files,
            urls,
            rejected,
        } = match check_inputs_blocking(app.input_rules(), paths, urls_in).await {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let app2 = app.clone();
        let inputs = run::upload::inputs(&files, &urls);
        let job = app.jobs.spawn(Job::upload(inputs), move |jctx| {
            run::upload::run(app2, jctx, files, urls, rejected)
        });
        self.answer_or_task(app, job, args.wait_s, &ctx, None).await
    }

    #[tool(
        title = "Edit the video",
        description = "NemoVideo's AI edits the video: ~50 credits an edit, ~100 a generated clip; export, credit, status, upload asks are free. 「加字幕」",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobAnswer<GenerateOutput>>()
    )]
    async fn generate(
        &self,
        Parameters(args): Parameters<GenerateArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        let call = (args.instruction.as_str(), args.request_id.as_deref());
        let (instruction, request_id) = match self
            .paid_call(app, JobKind::Generate, call, args.wait_s, &ctx)
            .await
        {
            PaidCall::Go(i, r) => (i, r),
            PaidCall::Answered(answer) => return answer,
        };
        // Exports, credit and status questions and uploads never go to the backend agent (it
        // would spend credits and do nothing), but only when that is all the instruction is.
        let routed = route(&instruction);
        if routed.intent != Intent::Agent && !args.send_anyway.unwrap_or(false) {
            let answer = match self.routed_answer(app, routed.intent).await {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            let job = Job::generation(instruction, None)
                .with_request_id(request_id)
                .in_project(app.project.peek_now());
            let answer = GenerateOutput::NotSent(answer);
            let job = match app.jobs.spawn_once(job, move |_| async move { Ok(answer) }) {
                Spawned::Started(j) | Spawned::Existing(j) => j,
            };
            return self.answer(app, job, Some(1.0), &ctx, None).await;
        }
        let confirmed = args.confirm.unwrap_or(false);
        let (estimate, reservation) =
            match agree_to_spend(app, &ctx, &instruction, args.max_credits, confirmed).await {
                Ok(e) => e,
                Err(e) => return fail(e),
            };
        let language =
            crate::project::language::of_instruction(&instruction, &app.settings.language);
        let req = run::generation::Request {
            instruction,
            also_export: routed.also_export,
        };
        let started = run::generation::start(app, req, &language, request_id, estimate.kind).await;
        let (job, note) = match started {
            Ok(run::generation::Started::New(j)) => {
                reservation.attach(&j.id);
                (j, None)
            }
            Ok(run::generation::Started::SameRequest(j)) => {
                let note = Some(same_request_note(&j));
                (j, note)
            }
            Ok(run::generation::Started::Busy(running)) => {
                let note = Some(format!(
                    "A generation is already running in this project, so this instruction was NOT sent. Wait for job {} with get_job, then send it again.",
                    running.id
                ));
                return self.answer(app, running, Some(0.0), &ctx, note).await;
            }
            Err(e) => return fail(e),
        };
        self.answer_or_task(app, job, args.wait_s, &ctx, note).await
    }

    #[tool(
        title = "Make a video",
        description = "upload_media, generate, export_video in one job; credits as generate. 「做个视频」",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobAnswer<VideoResult>>()
    )]
    async fn make_video(
        &self,
        Parameters(args): Parameters<MakeVideoArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        let call = (args.instruction.as_str(), args.request_id.as_deref());
        let (instruction, request_id) = match self
            .paid_call(app, JobKind::Video, call, args.wait_s, &ctx)
            .await
        {
            PaidCall::Go(i, r) => (i, r),
            PaidCall::Answered(answer) => return answer,
        };
        if let Err(e) = for_the_ai(&instruction) {
            return fail(e);
        }
        let variants = match variants::check_variants(args.variants) {
            Ok(v) => v,
            Err(e) => return fail(e),
        };
        let export = args.export.unwrap_or(true);
        if export {
            if let Err(e) = run::export::check_output_dir_async(&app.settings.output_dir).await {
                return fail(e);
            }
        }
        let mut paths = args.paths.unwrap_or_default();
        let urls = args.urls.unwrap_or_default();
        // The user's brand kit (the one the instruction names, else `default`): its files
        // uploaded with the media (once per project), its words added to the instruction and
        // shown in the quote.
        let kit = match brand_kit(app, &instruction, args.brand) {
            Ok(k) => k,
            Err(e) => return fail(e),
        };
        let instruction = match &kit {
            Some(k) => {
                for f in k.files() {
                    let f = f.display().to_string();
                    if !paths.contains(&f) {
                        paths.push(f);
                    }
                }
                format!("{instruction}; {}", k.words())
            }
            None => instruction,
        };
        let kit_note = kit.as_ref().map(|k| k.words());
        let inputs = if paths.is_empty() && urls.is_empty() {
            None
        } else {
            match check_inputs_blocking(app.input_rules(), paths, urls).await {
                Ok(c) => match kit_files_refused(&c, kit.as_ref()) {
                    Some(e) => return fail(e),
                    None => Some(c),
                },
                Err(e) => return fail(about_the_kit(e, kit.as_ref())),
            }
        };
        let confirmed = args.confirm.unwrap_or(false);
        let fix = args.fix.unwrap_or(false);
        if !variants.is_empty() {
            let req = variants::SetRequest {
                fix,
                kit_note,
                captions: args.captions.unwrap_or(true),
                instruction,
                request_id,
                variants,
                inputs,
                export,
                max_credits: args.max_credits,
                confirmed,
                wait_s: args.wait_s,
            };
            return self.make_set(app, &ctx, req).await;
        }
        // Agreed before anything is uploaded: a refusal leaves no trace. With `fix`, the one
        // fix round is in the quote as a maximum.
        let mut quote = app.estimate(&instruction);
        if fix {
            quote = with_fix_round(quote);
        }
        if let Some(k) = &kit_note {
            quote.basis = format!("{}; {k}", quote.basis);
        }
        let (estimate, reservation) =
            match agree_to_estimate(app, &ctx, quote, args.max_credits, confirmed).await {
                Ok(e) => e,
                Err(e) => return fail(e),
            };
        let req = run::VideoRequest {
            instruction,
            request_id,
            inputs,
            variants: Vec::new(),
            export,
            captions: args.captions.unwrap_or(true),
            cost_kind: estimate.kind,
            fix,
        };
        let (job, note) = with_note(run::start_video(app, req));
        if note.is_none() {
            reservation.attach(&job.id);
        }
        self.answer_or_task(app, job, args.wait_s, &ctx, note).await
    }
}

/// A quote with the one fix round `fix: true` may send, at most: twice the edit.
pub(super) fn with_fix_round(
    e: crate::account::estimate::Estimate,
) -> crate::account::estimate::Estimate {
    crate::account::estimate::Estimate {
        credits: e.credits * 2,
        basis: format!(
            "{}; at most {} more for the one fix round (sent only if the file differs from what was asked)",
            e.basis, e.credits
        ),
        ..e
    }
}

/// The kit's files are what its words promise the agent ("the logo logo.png"): one refused
/// while other media pass refuses the call, before anything is spent, rather than sending a
/// paid instruction that names a file the project never got.
fn kit_files_refused(
    checked: &crate::files::uploads::CheckedInputs,
    kit: Option<&crate::project::brand::Brand>,
) -> Option<crate::errors::ToolError> {
    let kit = kit?;
    let files: Vec<String> = kit
        .files()
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    let refused: Vec<String> = checked
        .rejected
        .iter()
        .filter(|r| files.contains(&r.input))
        .map(|r| format!("{}: {}", r.input, r.reason))
        .collect();
    if refused.is_empty() {
        return None;
    }
    let e = crate::errors::ToolError::new(
        crate::errors::Code::InvalidInput,
        format!("nothing was uploaded or sent. {}", refused.join("; ")),
    );
    Some(about_the_kit(e, Some(kit)))
}

/// A refused input that the caller never named but the brand kit added: say so, and how to
/// go on (this host may allow other folders than the one that set the kit).
fn about_the_kit(
    mut e: crate::errors::ToolError,
    kit: Option<&crate::project::brand::Brand>,
) -> crate::errors::ToolError {
    let Some(kit) = kit else { return e };
    let named: Vec<String> = kit
        .files()
        .iter()
        .map(|f| f.display().to_string())
        .filter(|f| e.message.contains(f.as_str()))
        .collect();
    if named.is_empty() {
        return e;
    }
    e.message = format!(
        "{} ({} from the brand kit \"{}\")",
        e.message,
        named.join(", "),
        kit.name
    );
    e.next_step = Some(format!(
        "call make_video with brand: false to leave the kit out, or set the kit \"{}\" again with files this server may upload (nemo-mcp brand set)",
        kit.name
    ));
    e
}

/// The brand kit a `make_video` call uses: none with `brand: false`; else the one the
/// instruction names, else `default`. `brand: true` with no kit to use is refused rather
/// than ignored (with one kit set, that one).
fn brand_kit(
    app: &App,
    instruction: &str,
    brand: Option<bool>,
) -> Result<Option<crate::project::brand::Brand>, ToolError> {
    use crate::project::brand;
    if brand == Some(false) {
        return Ok(None);
    }
    let kit = brand::for_instruction(&app.state, instruction);
    if kit.is_some() || brand != Some(true) {
        return Ok(kit);
    }
    let mut kits = brand::all(&app.state);
    match kits.len() {
        1 => Ok(kits.pop()),
        0 => Err(ToolError::new(
            Code::InvalidArgument,
            "brand: true, but no brand kit is set",
        )
        .next("set one with `nemo-mcp brand set --name default --logo <file> …`, or call again without brand")),
        _ => {
            let names: Vec<String> = kits.into_iter().map(|k| k.name).collect();
            Err(ToolError::new(
                Code::InvalidArgument,
                format!(
                    "brand: true, but the instruction names none of the brand kits ({}) and none is called default",
                    names.join(", ")
                ),
            )
            .next("name the kit in the instruction (\"for acme\"), or call again without brand"))
        }
    }
}
