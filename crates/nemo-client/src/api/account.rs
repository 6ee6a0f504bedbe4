//! Contract §5 (credits) and §10 (claim link).

use crate::error::{Error, Result};
use crate::Client;
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Credits {
    pub available: i64,
    /// Reserved by work in progress.
    pub frozen: i64,
    pub total: i64,
}

impl Client {
    /// The account's credits: `available` to spend, `frozen` (reserved by running work).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast()).await?;
    /// # let dir = tempfile::tempdir()?;
    /// # let config = nemo_client::Config::new(sim.base_url(), dir.path().join("state"))
    /// #     .with_client_id_file(dir.path().join("client_id"));
    /// let client = nemo_client::Client::new(config)?;
    /// let credits = client.credits().await?;
    /// assert!(credits.available > 0, "a new anonymous account starts with free credits");
    /// # Ok(()) }
    /// ```
    pub async fn credits(&self) -> Result<Credits> {
        let d = self
            .json(Method::GET, "/api/credits/balance/simple", None)
            .await?;
        let num = |k: &str| {
            d[k].as_i64()
                .or_else(|| d[k].as_f64().map(|f| f as i64))
                .or_else(|| d[k].as_str()?.parse().ok())
        };
        let available = num("available").ok_or_else(|| Error::Protocol {
            message: "credits without `available`".into(),
        })?;
        let frozen = num("frozen").unwrap_or(0);
        Ok(Credits {
            available,
            frozen,
            total: num("total").unwrap_or(available + frozen),
        })
    }

    /// A link that opens the current project in a browser (`{web}/workspace/claim?ct=..`).
    /// It carries a claim token, never the API token.
    pub async fn claim_link(&self) -> Result<String> {
        let web = self.config().web_url.clone();
        self.with_session(|s| {
            let web = web.clone();
            async move {
                let d = self
                    .json(
                        Method::POST,
                        "/api/auth/claim-token",
                        Some(json!({"task_id": s.task_id, "session_id": s.session_id.to_string()})),
                    )
                    .await?;
                let ct = d["claim_token"]
                    .as_str()
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| Error::Protocol {
                        message: "no claim_token".into(),
                    })?;
                let ct: String = ct
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                    .collect();
                Ok(format!("{web}/workspace/claim?ct={ct}"))
            }
        })
        .await
    }
}

impl Client {
    /// Whether the API answers at all (any HTTP status counts); for `doctor`. The request is
    /// formed like every other one (the seeds: *all* requests carry the token and the three
    /// attribution headers), so getting a token comes first; a failure there that is not a
    /// transport failure means the API answered.
    pub async fn ping(&self) -> Result<u16> {
        let token = self.token().await?;
        let r = self
            .inner
            .http
            .get(self.url("/api/credits/balance/simple"))
            .bearer_auth(token.expose())
            .headers(self.attribution_headers())
            .timeout(self.config().timeouts.connect)
            .send()
            .await
            .map_err(Error::transport)?;
        Ok(r.status().as_u16())
    }
}
