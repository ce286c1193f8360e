//! One simulated node's SSH server (russh server side) on a stream the SOCKS5 endpoint hands
//! over: password login with the credentials the manifest names, then exec of the probe or
//! the clock command, answered from the node's profile.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use russh::server::{self, Auth, Msg, Session};
use russh::{Channel, ChannelId};
use tokio::net::TcpStream;

use super::SimNode;

/// A session idle this long is closed: the engine keeps none open between commands.
const INACTIVITY: Duration = Duration::from_secs(60);

fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

struct NodeHandler {
    node: Arc<SimNode>,
}

impl server::Handler for NodeHandler {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(if self.node.accepts(user, password) {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let command = String::from_utf8_lossy(data).into_owned();
        session.channel_success(channel)?;
        // Through the handle, so that output larger than the channel window waits for it.
        let handle = session.handle();
        let node = self.node.clone();
        tokio::spawn(async move {
            tokio::time::sleep(node.delay(&command)).await;
            let (out, code) = node.answer(&command, now_epoch());
            let _ = handle.data(channel, out.into_bytes()).await;
            let _ = handle.exit_status_request(channel, code).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }
}

fn config(node: &SimNode) -> server::Config {
    let mut methods = russh::MethodSet::empty();
    methods.push(russh::MethodKind::Password);
    server::Config {
        methods,
        keys: vec![node.host_key()],
        inactivity_timeout: Some(INACTIVITY),
        auth_rejection_time: Duration::from_millis(200),
        auth_rejection_time_initial: Some(Duration::ZERO),
        ..Default::default()
    }
}

/// Runs the node's SSH server on `stream` until the client leaves.
pub async fn serve_node(node: Arc<SimNode>, stream: TcpStream) {
    let cfg = Arc::new(config(&node));
    let handler = NodeHandler { node };
    match server::run_stream(cfg, stream, handler).await {
        Ok(running) => {
            if let Err(e) = running.await {
                tracing::debug!("sandbox SSH node session ended: {e}");
            }
        }
        Err(e) => tracing::debug!("sandbox SSH node handshake: {e}"),
    }
}
