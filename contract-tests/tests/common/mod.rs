//! A target that misbehaves in one chosen way, on 127.0.0.1, for the harness's own tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Behaviour {
    /// Reads the request, never answers.
    Silent,
    /// Sends the headers and part of the body, then stalls.
    Stall,
    /// Answers correctly, after a delay.
    Slow(Duration),
    /// Sends part of an answer, then resets the connection.
    Reset,
    /// 500 with an HTML page.
    Html500,
    /// 202 whose JSON is cut short.
    InvalidJson,
    /// 202 with a 100 MB body.
    Huge,
    /// 202 that says JSON and sends HTML.
    LyingContentType,
    /// A chunked 202 that never ends.
    EndlessChunks,
    /// 429 with `Retry-After: 1` for the first two updates, then correct answers.
    RetryAfterThenFine,
    /// 503 with a `Retry-After` longer than the suite waits.
    RetryAfterTooLong,
}

const CVM: &str = r#"{"id":1,"name":"web","status":"running","app_id":"app_web","vcpu":2,"memory":4096,"disk_size":40}"#;

async fn read_request(sock: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut chunk).await.ok()?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(head.split(' ').next().unwrap_or("").to_uppercase());
        }
    }
}

fn answer(status: &str, content_type: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
}

async fn serve(mut sock: TcpStream, b: Behaviour, updates: Arc<AtomicUsize>) {
    let Some(method) = read_request(&mut sock).await else {
        return;
    };
    if method == "GET" {
        let _ = sock
            .write_all(answer("200 OK", "application/json", CVM).as_bytes())
            .await;
        return;
    }
    let n = updates.fetch_add(1, Ordering::SeqCst);
    let accepted = r#"{"status":"accepted","correlation_id":"c"}"#;
    match b {
        Behaviour::Silent => tokio::time::sleep(Duration::from_secs(3600)).await,
        Behaviour::Stall => {
            let _ = sock.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"sta").await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Behaviour::Slow(d) => {
            tokio::time::sleep(d).await;
            let _ = sock
                .write_all(answer("202 Accepted", "application/json", accepted).as_bytes())
                .await;
        }
        Behaviour::Reset => {
            let _ = sock.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"sta").await;
            // SO_LINGER 0: closing sends a reset, which is the point here.
            #[allow(deprecated)]
            let _ = sock.set_linger(Some(Duration::ZERO));
            drop(sock);
        }
        Behaviour::Html500 => {
            let page = "<html><body><h1>Internal Server Error</h1></body></html>";
            let _ = sock
                .write_all(answer("500 Internal Server Error", "text/html", page).as_bytes())
                .await;
        }
        Behaviour::InvalidJson => {
            let _ = sock
                .write_all(
                    answer("202 Accepted", "application/json", r#"{"status": "acc"#).as_bytes(),
                )
                .await;
        }
        Behaviour::LyingContentType => {
            let _ = sock
                .write_all(
                    answer("202 Accepted", "application/json", "<html>accepted</html>").as_bytes(),
                )
                .await;
        }
        Behaviour::Huge => {
            let total: usize = 100 * 1024 * 1024;
            let head = format!("HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {total}\r\nconnection: close\r\n\r\n");
            if sock.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < total {
                if sock.write_all(&block).await.is_err() {
                    return; // the reader stopped: good
                }
                sent += block.len();
            }
        }
        Behaviour::EndlessChunks => {
            let head = "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if sock.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = format!("{:x}\r\n{}\r\n", 4096, " ".repeat(4096));
            while sock.write_all(chunk.as_bytes()).await.is_ok() {}
        }
        Behaviour::RetryAfterThenFine => {
            let a = if n < 2 {
                "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string()
            } else {
                answer("202 Accepted", "application/json", accepted)
            };
            let _ = sock.write_all(a.as_bytes()).await;
        }
        Behaviour::RetryAfterTooLong => {
            let _ = sock
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 3600\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    }
}

/// A misbehaving server on 127.0.0.1; it stops when dropped.
pub struct Target {
    pub url: String,
    pub updates: Arc<AtomicUsize>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn start(b: Behaviour) -> Target {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", std_listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let updates = Arc::new(AtomicUsize::new(0));
    let counter = updates.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            let accept = async {
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(serve(sock, b, counter.clone()));
                }
            };
            tokio::select! {
                _ = accept => {}
                _ = rx => {}
            }
        });
    });
    Target {
        url,
        updates,
        _stop: tx,
    }
}
