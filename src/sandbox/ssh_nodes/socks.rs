//! A SOCKS5 server (RFC 1928, username/password per RFC 1929, CONNECT only) whose every
//! destination is a simulated node in this process: it never opens an outgoing connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{SshNodes, server};

/// Connections served at once; more wait for a slot.
const MAX_CONNECTIONS: usize = 512;
/// The SOCKS negotiation must finish within this.
const NEGOTIATION: Duration = Duration::from_secs(10);

const VERSION: u8 = 5;
const METHOD_USER_PASS: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xff;
const REP_OK: u8 = 0;
const REP_NOT_ALLOWED: u8 = 2;
const REP_HOST_UNREACHABLE: u8 = 4;
const REP_COMMAND_UNSUPPORTED: u8 = 7;
const REP_ADDRESS_UNSUPPORTED: u8 = 8;

pub async fn serve(listener: TcpListener, nodes: SshNodes, stop: CancellationToken) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            _ = stop.cancelled() => return,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let sock = tokio::select! {
            _ = stop.cancelled() => return,
            a = listener.accept() => match a {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::debug!("sandbox SOCKS5 accept: {e}");
                    continue;
                }
            },
        };
        let (nodes, stop) = (nodes.clone(), stop.clone());
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = handle(sock, &nodes) => {}
            }
        });
    }
}

async fn handle(mut sock: TcpStream, nodes: &SshNodes) {
    let target = match tokio::time::timeout(NEGOTIATION, negotiate(&mut sock, nodes)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            tracing::debug!("sandbox SOCKS5: {e}");
            return;
        }
        Err(_) => return,
    };
    let _ = sock.set_nodelay(true);
    server::serve_node(target, sock).await;
}

/// Greeting, login and CONNECT; the node asked for, after the success reply.
async fn negotiate(sock: &mut TcpStream, nodes: &SshNodes) -> std::io::Result<Arc<super::SimNode>> {
    let [ver, n] = read_array::<2>(sock).await?;
    if ver != VERSION {
        return Err(bad("not SOCKS5"));
    }
    let methods = read_vec(sock, n.into()).await?;
    if !methods.contains(&METHOD_USER_PASS) {
        sock.write_all(&[VERSION, NO_ACCEPTABLE]).await?;
        return Err(bad("the client offers no username/password login"));
    }
    sock.write_all(&[VERSION, METHOD_USER_PASS]).await?;
    let [_subver, ulen] = read_array::<2>(sock).await?;
    let user = read_vec(sock, ulen.into()).await?;
    let [plen] = read_array::<1>(sock).await?;
    let pass = zeroize::Zeroizing::new(read_vec(sock, plen.into()).await?);
    let ep = nodes.endpoint();
    let ok = user == ep.username.as_bytes() && pass.as_slice() == ep.password.as_bytes();
    sock.write_all(&[1, if ok { 0 } else { 1 }]).await?;
    if !ok {
        return Err(bad("wrong SOCKS5 username or password"));
    }
    let [ver, cmd, _rsv, atyp] = read_array::<4>(sock).await?;
    if ver != VERSION {
        return Err(bad("not SOCKS5"));
    }
    let host: Option<IpAddr> = match atyp {
        1 => Some(IpAddr::V4(Ipv4Addr::from(read_array::<4>(sock).await?))),
        4 => Some(IpAddr::V6(Ipv6Addr::from(read_array::<16>(sock).await?))),
        3 => {
            let [len] = read_array::<1>(sock).await?;
            let name = read_vec(sock, len.into()).await?;
            String::from_utf8_lossy(&name).parse().ok()
        }
        _ => {
            reply(sock, REP_ADDRESS_UNSUPPORTED).await?;
            return Err(bad("unknown address type"));
        }
    };
    let port = u16::from_be_bytes(read_array::<2>(sock).await?);
    if cmd != 1 {
        reply(sock, REP_COMMAND_UNSUPPORTED).await?;
        return Err(bad("only CONNECT is served"));
    }
    let Some(host) = host else {
        // A name would need resolving, which means traffic leaving this machine.
        reply(sock, REP_NOT_ALLOWED).await?;
        return Err(bad("the sandbox serves node addresses, not names"));
    };
    match nodes.node(host, port) {
        Some(node) => {
            reply(sock, REP_OK).await?;
            Ok(node)
        }
        None => {
            reply(sock, REP_HOST_UNREACHABLE).await?;
            Err(bad("no simulated node at that address"))
        }
    }
}

async fn reply(sock: &mut TcpStream, code: u8) -> std::io::Result<()> {
    sock.write_all(&[VERSION, code, 0, 1, 0, 0, 0, 0, 0, 0])
        .await
}

async fn read_array<const N: usize>(sock: &mut TcpStream) -> std::io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    sock.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn read_vec(sock: &mut TcpStream, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    sock.read_exact(&mut buf).await?;
    Ok(buf)
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}
