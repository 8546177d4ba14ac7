//! RegisterUsage throughput and latency: the real aws-sdk-rust client (SigV4-signed requests)
//! against an in-process emulator signing real PS256 tokens with an RSA-3072 key.
//!
//! Run in release: `cargo bench -p entitled-emulator --bench register_usage`.
//! Tunables: `BENCH_SECONDS` (default 10), `BENCH_CONCURRENCY` (default 8).

use std::time::{Duration, Instant};

use aws_sdk_marketplacemetering::config::retry::RetryConfig;
use aws_sdk_marketplacemetering::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls;
use entitled_emulator::token::SigningKey;
use entitled_emulator::{Config, Emulator, Product};

/// The TEST-ONLY product key, version 1, from the repository's `tests/fixtures`.
const V1_KEY: &str =
    include_str!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem");

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn main() {
    // `cargo test --benches` runs benches with `--bench`; `cargo bench` too. Either way, run.
    let seconds = env_or("BENCH_SECONDS", 10);
    let concurrency = env_or("BENCH_CONCURRENCY", 8) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let key = SigningKey::from_pkcs8_pem(V1_KEY).expect("the TEST-ONLY key parses");
        let product = Product::new("bench-product").signing_key(1, key);
        let emulator = Emulator::start(Config::new().product(product)).await.expect("start");
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let config = aws_sdk_marketplacemetering::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(emulator.endpoint_url())
            .credentials_provider(Credentials::new(
                entitled_emulator::DEFAULT_ACCESS_KEY_ID,
                entitled_emulator::DEFAULT_SECRET_ACCESS_KEY,
                None,
                None,
                "bench",
            ))
            .http_client(http)
            .retry_config(RetryConfig::disabled())
            .build();
        let client = aws_sdk_marketplacemetering::Client::from_conf(config);
        // Warm up connections and caches.
        for _ in 0..concurrency {
            client
                .register_usage()
                .product_code("bench-product")
                .public_key_version(1)
                .send()
                .await
                .expect("warm-up call");
        }
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let workers: Vec<_> = (0..concurrency)
            .map(|w| {
                let client = client.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut errors = 0u64;
                    let mut i = 0u64;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        let r = client
                            .register_usage()
                            .product_code("bench-product")
                            .public_key_version(1)
                            .nonce(format!("w{w}-{i}"))
                            .send()
                            .await;
                        latencies.push(t.elapsed());
                        if r.is_err() {
                            errors += 1;
                        }
                        i += 1;
                    }
                    (latencies, errors)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut errors = 0;
        for w in workers {
            let (l, e) = w.await.expect("worker");
            all.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed();
        all.sort();
        println!(
            "RegisterUsage (SigV4 verify + PS256 RSA-3072 sign, aws-sdk-rust client, {concurrency} concurrent, {:.1}s): \
             {} calls, {errors} errors, {:.0} calls/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            elapsed.as_secs_f64(),
            all.len(),
            all.len() as f64 / elapsed.as_secs_f64(),
            percentile(&all, 0.50).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3,
            all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    });
}
