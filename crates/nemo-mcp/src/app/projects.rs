//! The App's side of projects: the current one (made when first needed), one reopened by
//! its id, and a project the backend lost, restored and the call run again on it.

use super::App;
use crate::errors::ToolError;
use crate::project::media::{Restore, Restored};
use nemo_client::Error;
use nemo_client::{Project, Session, SessionId};

impl App {
    /// The current project, creating it (in `language`, else the host's) if there is none.
    pub async fn session(&self, language: Option<&str>) -> nemo_client::Result<Session> {
        let language = language.unwrap_or(&self.settings.language);
        let s = self.project.get(&self.client, language).await?;
        self.library.touch(&s, || self.account());
        Ok(s)
    }

    /// Open the project `connect` chose: the current one, a new one, or one reopened by its
    /// id. Returns the project and what to tell about it (a lost project restored).
    pub async fn open_project(
        &self,
        choice: crate::project::opening::Choice,
    ) -> Result<(Session, Option<String>), ToolError> {
        use crate::project::opening::Opening;
        let language = choice.language.as_deref();
        let opened = match choice.opening {
            Opening::Reopen(id) => return self.reopen(id).await,
            Opening::New => {
                let language = language.unwrap_or(&self.settings.language);
                self.project.start_new(&self.client, language).await
            }
            Opening::Current => self.session(language).await,
        };
        opened.map(|s| (s, None)).map_err(|e| self.err(&e))
    }

    /// The NemoVideo account this process works in (`account::identity`), if known.
    pub fn account(&self) -> Option<String> {
        self.jobs.journal().account()
    }

    /// Reopen the project `id` as the current one (from the library, or by its id alone). A
    /// project NemoVideo no longer has is said so, and the restore path applies: a new project
    /// with the media this server uploaded to the old one. Returns the project and what to tell.
    pub async fn reopen(&self, id: SessionId) -> Result<(Session, Option<String>), ToolError> {
        let api = &self.settings.client.api_url;
        let ours = self.account();
        if let Some(e) = self
            .library
            .get(id)
            .filter(|e| !e.belongs_to(ours.as_deref()))
        {
            return Err(ToolError::new(
                crate::errors::Code::InvalidArgument,
                format!(
                    "project {} was made under another NemoVideo account (another NEMO_TOKEN, or none): this server's account cannot open it",
                    e.session.session_id
                ),
            )
            .next("open it in a host signed in to that account; list_projects shows this account's projects"));
        }
        let session = self
            .library
            .get(id)
            .map(|e| e.session)
            .filter(|s| &s.api_url == api)
            .unwrap_or_else(|| Session {
                session_id: id,
                task_id: None,
                language: self.settings.language.clone(),
                api_url: api.clone(),
                user_id: None,
            });
        let state = session.handle(&self.client).state().await;
        self.project
            .open(session.clone())
            .await
            .map_err(|e| self.err(&e))?;
        match state {
            // `connect` notes the project as used in the library.
            Ok(_) => Ok((session, None)),
            Err(Error::SessionLost { .. }) => {
                let r = self.restore_project(id, Restore::Possible).await?;
                let s = self.session(None).await.map_err(|e| self.err(&e))?;
                let notice = format!(
                    "NemoVideo no longer has the project {id} (an anonymous token's projects are not reachable after it lapses; a project can also expire). {}",
                    r.notice(id)
                );
                Ok((s, Some(notice)))
            }
            Err(e) => Err(self.err(&e)),
        }
    }

    /// What could not be read from the state folder, and what that means (each told once).
    pub fn take_state_notices(&self) -> Option<String> {
        let mut all: Vec<String> = std::mem::take(&mut *crate::support::sync::lock(&self.damaged));
        all.extend(self.project.take_damaged());
        (!all.is_empty()).then(|| all.join(" "))
    }

    /// The current project's id, creating the project if needed.
    pub async fn session_id(&self, language: Option<&str>) -> Result<SessionId, ToolError> {
        self.session(language)
            .await
            .map(|s| s.session_id)
            .map_err(|e| self.err(&e))
    }

    /// A handle on the current project (created if needed).
    pub async fn current(&self) -> nemo_client::Result<Project<'_>> {
        Ok(self.session(None).await?.handle(&self.client))
    }

    /// The current project's state (the project is created if there is none; a lost one is
    /// reported, not restored).
    pub async fn current_state(&self) -> nemo_client::Result<nemo_client::SessionState> {
        self.current().await?.state().await
    }

    /// A handle on the project `id`, with its task id when it is the current project.
    pub async fn handle(&self, id: SessionId) -> Project<'_> {
        match self.project.peek().await {
            Some(s) if s.session_id == id => s.handle(&self.client),
            _ => self.client.project(id),
        }
    }

    /// The anonymous user's id (for the registration link): known, else read from the
    /// current project's state.
    pub async fn learn_user_id(&self) -> Option<String> {
        match self.project.peek().await {
            Some(s) => s.handle(&self.client).learn_user_id().await,
            None => self.client.user_id(),
        }
    }
    /// Replace the lost project `lost` with a new one holding the same media
    /// ([`crate::project::restore`]).
    pub async fn restore_project(
        &self,
        lost: SessionId,
        need: Restore,
    ) -> Result<Restored, ToolError> {
        let parts = crate::project::restore::Parts {
            client: &self.client,
            current: &self.project,
            media: &self.media,
            language: &self.settings.language,
            max_upload: self.client.profile().max_upload_bytes(),
            web_url: &self.settings.client.web_url,
            policy: &self.input_policy(),
        };
        crate::project::restore::restore(parts, lost, need).await
    }

    /// Run `op` on the current project; if the backend lost it, restore what can be restored
    /// and run `op` once more on the new project. The notice tells the user what happened.
    pub async fn in_project<'a, T, F, Fut>(
        &'a self,
        op: F,
    ) -> Result<(T, Option<String>), ToolError>
    where
        F: Fn(Project<'a>) -> Fut,
        Fut: std::future::Future<Output = nemo_client::Result<T>>,
    {
        let first = match self.current().await {
            Ok(p) => op(p).await,
            Err(e) => Err(e),
        };
        match first {
            Ok(v) => Ok((v, None)),
            Err(Error::SessionLost {
                session: Some(lost),
                ..
            }) => {
                let r = self.restore_project(lost, Restore::Possible).await?;
                // The new project's handle carries its task id (a claim link needs it).
                let project = self.handle(r.session).await;
                let v = op(project).await.map_err(|e| self.err(&e))?;
                Ok((v, Some(r.notice(lost))))
            }
            Err(e) => Err(self.err(&e)),
        }
    }
}
