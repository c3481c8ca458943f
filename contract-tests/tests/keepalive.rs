//! A target that closes a kept-alive connection under the next request (uvicorn after a 500,
//! without `Connection: close`): that request goes out once more on a fresh connection, as curl
//! does, and nothing is reported against the target for it.

use contract_tests::http::{Auth, Target, TargetOptions};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn read_head(sock: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return true;
        }
    }
}

/// The first connection answers its first request with a 500 (keep-alive), then reads the next
/// request and closes without answering. Every later connection answers 200 to each request.
async fn server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut first = true;
        while let Ok(Ok((mut sock, _))) = tokio::time::timeout_at(deadline, listener.accept()).await
        {
            let closing = std::mem::take(&mut first);
            tokio::spawn(async move {
                if closing {
                    if read_head(&mut sock).await {
                        let _ = sock
                            .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 21\r\n\r\nInternal Server Error")
                            .await;
                    }
                    let _ = read_head(&mut sock).await;
                    return; // closed under the second request
                }
                while read_head(&mut sock).await {
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
                        .await;
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_connection_closed_under_a_request_is_retried_once_on_a_fresh_one() {
    let url = server().await;
    let target = Target::new(TargetOptions {
        base_url: url,
        api_key: None,
        shown: Default::default(),
        timeout: Duration::from_secs(2),
        rate: None,
        max_requests: None,
        deadline: Instant::now() + Duration::from_secs(8),
        read_limit: 1 << 20,
        insecure: false,
        other_api_key: None,
        basic: None,
        other_basic: None,
        headers: Vec::new(),
        other_headers: Vec::new(),
        max_retry_after: Duration::from_secs(1),
    })
    .unwrap();
    let first = target
        .send("GET", "/a", &[], None, Auth::Missing)
        .await
        .unwrap();
    assert_eq!(first.status(), Some(500));
    let second = target
        .send("GET", "/b", &[], None, Auth::Missing)
        .await
        .unwrap();
    assert_eq!(
        second.status(),
        Some(200),
        "retried on a fresh connection: {:?}",
        second.outcome
    );
    assert_eq!(target.requests(), 3, "the retry is counted as a request");
}
