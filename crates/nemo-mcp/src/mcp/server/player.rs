//! The app-only tool of the player view ([`crate::mcp::player`]): an export's bytes in pieces.

use super::*;
use crate::mcp::player::pieces;

#[tool_router(router = player_router, vis = "pub(super)")]
impl NemoServer {
    #[tool(
        description = "For the player view only.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn read_export_piece(
        &self,
        Parameters(args): Parameters<PieceArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        let id = match check_job_id(&args.job_id) {
            Ok(id) => id.to_string(),
            Err(e) => return fail(e),
        };
        let app = self.app_for(&ctx);
        let offset = args.offset.unwrap_or(0);
        let read = tokio::task::spawn_blocking(move || {
            pieces::locate(&app, &id).and_then(|f| pieces::read(&f, offset))
        })
        .await;
        match read {
            Ok(Ok(piece)) => {
                let text = format!(
                    "Bytes {}-{} of {} of export {} (for the player view).",
                    piece.offset,
                    piece.offset + piece.length - 1,
                    piece.total_bytes,
                    piece.job_id
                );
                Ok(crate::mcp::views::structured_whole(
                    vec![ContentBlock::text(text)],
                    &piece,
                ))
            }
            Ok(Err(e)) => fail(e),
            Err(e) => fail(ToolError::new(Code::Internal, e.to_string())),
        }
    }
}
