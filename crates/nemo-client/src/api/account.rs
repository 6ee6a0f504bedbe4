//! Contract §5 (credits) and §10 (claim link).

use crate::error::{Error, Result};
use crate::wire::{lenient, Int, Text};
use crate::{Client, Project};
use reqwest::Method;
use serde::{Deserialize, Serialize};

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
        let b: Balance = crate::wire::from_value(d, "the credits")?;
        let available = b.available.ok_or_else(|| Error::Protocol {
            message: "credits without `available`".into(),
        })?;
        let frozen = b.frozen.map_or(0, |n| n.0);
        Ok(Credits {
            available: available.0,
            frozen,
            total: b.total.map_or(available.0 + frozen, |n| n.0),
        })
    }
}

/// The seeds' claim-token body.
#[derive(Serialize)]
struct ClaimRequest<'a> {
    task_id: Option<&'a str>,
    session_id: String,
}

#[derive(Deserialize)]
struct ClaimAnswer {
    #[serde(default, alias = "claimToken", deserialize_with = "lenient")]
    claim_token: Option<Text>,
}

/// The credits answer: numbers as integers, floats or text.
#[derive(Deserialize)]
struct Balance {
    #[serde(default, deserialize_with = "lenient")]
    available: Option<Int>,
    #[serde(default, deserialize_with = "lenient")]
    frozen: Option<Int>,
    #[serde(default, deserialize_with = "lenient")]
    total: Option<Int>,
}

impl Project<'_> {
    /// A link that opens the project in a browser (`{web}/workspace/claim?ct=..`). It carries
    /// a claim token, never the API token. The request names the project's task: the handle's
    /// ([`Project::with_task_id`]), else the one its state gives.
    pub async fn claim_link(&self) -> Result<String> {
        // The seeds send the task id along; a handle made from a bare id reads it first.
        let task_id = match &self.task_id {
            Some(t) => Some(t.clone()),
            None => self.state().await?.task_id,
        };
        let body = ClaimRequest {
            task_id: task_id.as_deref(),
            session_id: self.id.to_string(),
        };
        let d = self
            .client
            .json(
                Method::POST,
                "/api/auth/claim-token",
                Some(crate::wire::to_value(&body)?),
            )
            .await
            .map_err(|e| e.in_session(self.id))?;
        let answer: ClaimAnswer = crate::wire::from_value(d, "the claim token")?;
        let ct: String = answer
            .claim_token
            .map(|t| t.0)
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .collect();
        if ct.is_empty() {
            return Err(Error::Protocol {
                message: "no claim_token".into(),
            });
        }
        Ok(format!(
            "{}/workspace/claim?ct={ct}",
            self.client.config().web_url
        ))
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
            .map_err(|e| crate::network::failure::transport(e, &self.inner.network))?;
        Ok(r.status().as_u16())
    }

    /// Whether the download path (its proxy, trusted roots and address rules) reaches the API's
    /// origin. Any HTTP answer is a yes; no token is sent.
    pub async fn probe_download_path(&self) -> Result<u16> {
        let r = self
            .inner
            .download
            .get(self.url("/"))
            .timeout(self.config().timeouts.request)
            .send()
            .await
            .map_err(|e| crate::network::failure::transport(e, &self.inner.network))?;
        Ok(r.status().as_u16())
    }
}
