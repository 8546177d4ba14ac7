//! The Region from ECS task metadata, end to end: no `AWS_REGION`, as on an
//! older ECS agent on EC2, and the guard signs for the Region in the task's
//! ARN. The emulator, pinned to one Region, refuses any other.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::*;
use entitled_emulator::Emulator;

/// Serves the task metadata document to every request, from a thread.
fn task_metadata(region: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!(
        "http://{}/v4/0123456789abcdef",
        listener.local_addr().unwrap()
    );
    let body = format!(
        r#"{{"Cluster":"default","TaskARN":"arn:aws:ecs:{region}:123456789012:task/default/0123456789abcdef","LaunchType":"EC2"}}"#
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 2048];
            let _ = stream.read(&mut request);
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    uri
}

fn check_with_task_region(emu: &Emulator, task_region: &str) -> std::process::Output {
    let mut cmd = guard(emu);
    cmd.env_remove("AWS_REGION")
        .env("ECS_CONTAINER_METADATA_URI_V4", task_metadata(task_region))
        .args(product_flags(PRODUCT))
        .args(["--deadline", "10s", "--check"]);
    output_within(&mut cmd, PATIENCE)
}

#[test]
fn without_aws_region_the_task_metadata_region_is_used() {
    let emu = Emulator::spawn(config().region("eu-west-3")).unwrap();
    let out = check_with_task_region(&emu, "eu-west-3");
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    assert_eq!(emu.calls().len(), 1);
}

#[test]
fn a_task_in_another_region_is_refused_by_the_pinned_service() {
    let emu = Emulator::spawn(config().region("eu-west-3")).unwrap();
    let out = check_with_task_region(&emu, "us-east-1");
    assert_eq!(code(out.status), 78, "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("InvalidRegionException"),
        "{}",
        describe(&out)
    );
}

#[test]
fn no_region_anywhere_is_refused_before_any_call() {
    let emu = emulator();
    let mut cmd = guard(&emu);
    cmd.env_remove("AWS_REGION")
        .args(product_flags(PRODUCT))
        .arg("--check");
    let out = output_within(&mut cmd, PATIENCE);
    assert_eq!(code(out.status), 78, "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot call RegisterUsage (NoRegion"),
        "{}",
        describe(&out)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("RegisterUsage refused"),
        "{}",
        describe(&out)
    );
    assert!(emu.calls().is_empty());
}
