//! Waiting on a query that runs in AWS.

use anyhow::Result;

/// Waiting on a query in AWS (Logs Insights, Athena): 250 ms, doubling to 5 s between polls,
/// for at most 30 minutes.
pub struct Poll {
    wait: std::time::Duration,
    deadline: tokio::time::Instant,
}

impl Poll {
    const LIMIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

    /// From now.
    pub fn start() -> Poll {
        Poll {
            wait: std::time::Duration::from_millis(250),
            deadline: tokio::time::Instant::now() + Self::LIMIT,
        }
    }

    /// Fails once the query `id` has had its 30 minutes.
    pub fn check(&self, id: &str) -> Result<()> {
        if tokio::time::Instant::now() > self.deadline {
            anyhow::bail!(
                "query {id} did not finish in {} minutes",
                Self::LIMIT.as_secs() / 60
            );
        }
        Ok(())
    }

    /// Sleeps before the next poll.
    pub async fn pause(&mut self) {
        tokio::time::sleep(self.wait).await;
        self.wait = (self.wait * 2).min(std::time::Duration::from_secs(5));
    }
}
