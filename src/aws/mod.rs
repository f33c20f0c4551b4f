//! AWS access, in one place: the run's session (configuration loaded once, one HTTP client,
//! retry partitions per account), the calls counted by IAM action and what a failed call means,
//! S3 listing and reading, and waiting on queries. Read-only: Describe, List and Get calls only
//! (plus the Athena query `--athena-table` asks for). Everything that talks to AWS (collect/,
//! price/live, flows' remote readers, bill/) goes through here.

pub mod calls;
pub mod poll;
pub mod s3;
pub mod session;
