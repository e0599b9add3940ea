//! The worker models a prefork worker runs, reusing the standalone servers: `-k sync` is server-sync (gunicorn's
//! sync worker with `max_threads = 1`), `-k async` is server-async (UvicornWorker). Each builds its upstream
//! client after fork, in the worker, because reqwest's blocking client starts a thread.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use endpoints::{AppConfig, UpstreamCa, UpstreamClient, UpstreamError};
use server_kit::lifecycle::{Shutdown, WorkerHooks};

use crate::WorkerApp;

/// What every worker serves, whatever its model.
#[derive(Debug, Clone)]
pub struct Worker {
    pub app: AppConfig,
    /// Turned into an [`UpstreamClient`] in each worker; a bad URL is a boot failure.
    pub upstream_url: String,
    /// What an https upstream must chain to (read by the master, so a bad file stops it before any fork).
    pub upstream_ca: Option<UpstreamCa>,
    pub header_timeout: Duration,
    pub model: Model,
}

#[derive(Debug, Clone)]
pub enum Model {
    Sync(SyncSettings),
    Async(AsyncSettings),
}

/// server-sync's own settings (see [`server_sync::Config`]).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub max_threads: usize,
    pub keep_alive: bool,
    pub keep_alive_timeout: Duration,
    /// Responses per connection before it is closed (Apache's MaxKeepAliveRequests; 0: no bound).
    pub max_keepalive_requests: u64,
    /// The drain limit the model applies itself once told to stop (the master's --graceful-timeout).
    pub graceful_timeout: Duration,
}

/// server-async's own settings (see [`server_async::Config`]).
#[derive(Debug, Clone)]
pub struct AsyncSettings {
    pub threads: usize,
    pub blocking_threads: usize,
    pub blocking: server_async::BlockingMode,
    pub limit_concurrency: Option<usize>,
    /// The drain limit the model applies itself once told to stop (the master's --graceful-timeout).
    pub graceful_timeout: Duration,
}

/// A model's configuration, built in the worker.
pub enum Booted {
    Sync(server_sync::Config),
    Async(server_async::Config),
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("the sync server failed")]
    Sync(#[from] server_sync::Error),
    #[error("the async server failed")]
    Async(#[from] server_async::ServeError),
}

impl WorkerApp for Worker {
    type Booted = Booted;
    type Error = ModelError;

    fn boot(&self, hooks: Arc<dyn WorkerHooks>) -> Result<Booted, ModelError> {
        let upstream = UpstreamClient::new(&self.upstream_url, self.upstream_ca.as_ref())?;
        Ok(match &self.model {
            Model::Sync(settings) => Booted::Sync(server_sync::Config {
                app: self.app.clone(),
                upstream,
                header_timeout: self.header_timeout,
                hooks,
                max_threads: settings.max_threads,
                keep_alive: settings.keep_alive,
                keep_alive_timeout: settings.keep_alive_timeout,
                max_keepalive_requests: settings.max_keepalive_requests,
                graceful_timeout: settings.graceful_timeout,
            }),
            Model::Async(settings) => Booted::Async(server_async::Config {
                app: self.app.clone(),
                upstream,
                header_timeout: self.header_timeout,
                hooks,
                threads: settings.threads,
                blocking_threads: settings.blocking_threads,
                blocking: settings.blocking,
                limit_concurrency: settings.limit_concurrency,
                graceful_timeout: settings.graceful_timeout,
            }),
        })
    }

    fn serve(&self, booted: Booted, listener: TcpListener, shutdown: Shutdown) -> Result<(), ModelError> {
        match booted {
            Booted::Sync(config) => server_sync::run(listener, config, shutdown)?,
            Booted::Async(config) => server_async::run(listener, config, shutdown)?,
        }
        Ok(())
    }
}
