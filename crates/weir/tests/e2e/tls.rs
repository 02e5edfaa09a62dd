//! HTTPS through the real binary: a self-signed certificate made by the test (`openssl`), the
//! server started with it, the CLI with and without `--ca-cert`, boto3 with `verify=`, plain HTTP
//! on the HTTPS port, bad certificate files, and the TLS section of docs/security.md run as a
//! shell session.

use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output};

use crate::doc_sessions::{doc, run_step, steps};
use crate::markdown::{blocks, shell_words};
use crate::support::*;

const PIPELINE: &str = "tasks:\n  greet:\n    command: echo hello over https\n";

/// A client command against `server` with the given extra environment.
fn cli(server: &Server, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("WEIR_SERVER", &server.url)
        .env("WEIR_TOKEN", server.token())
        .env_remove("WEIR_CA_CERT")
        .envs(env.iter().copied())
        .output()
        .expect("run weir client")
}

/// A server on `project` with a self-signed certificate made for it (`--tls-cert`, `--tls-key`).
fn https_server(project: &Project) -> (Server, PathBuf, PathBuf) {
    let (cert, key) = self_signed_certificate(project.path());
    let server = Server::start_https(
        project.path(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    (server, cert, key)
}

#[test]
fn the_cli_works_over_https_with_the_certificate_and_fails_clearly_without_it() {
    let project = Project::new();
    project.pipeline("hello", PIPELINE);
    let (server, cert, key) = https_server(&project);
    assert!(server.url.starts_with("https://"));
    assert!(
        server
            .log_text()
            .contains(&format!("weir listening on {}", server.url)),
        "{}",
        server.log_text()
    );
    let ca = cert.to_str().unwrap();

    // A client connected and silent holds a handshake open; everyone else is served meanwhile.
    let _silent = TcpStream::connect(server.url.trim_start_matches("https://")).unwrap();

    let listed = cli(
        &server,
        &["pipelines", "list", "--json"],
        &[("WEIR_CA_CERT", ca)],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(stdout(&listed).contains("\"hello\""), "{}", stdout(&listed));
    let run = cli(
        &server,
        &[
            "pipelines",
            "trigger",
            "hello",
            "--wait",
            "--json",
            "--ca-cert",
            ca,
        ],
        &[],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let run: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(run["state"], "success", "{run}");

    // Without the certificate: refused, with what to do.
    let refused = cli(&server, &["pipelines", "list"], &[]);
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(
        message.contains(&format!(
            "the weir server at {} presented a certificate this client does not trust",
            server.url
        )) && message.contains("--ca-cert FILE or WEIR_CA_CERT"),
        "{message}"
    );

    // Trusting another certificate: refused, saying the one given does not vouch for it.
    let elsewhere = tempfile::tempdir().unwrap();
    let (other, _) = self_signed_certificate(elsewhere.path());
    let wrong = cli(
        &server,
        &["pipelines", "list", "--ca-cert", other.to_str().unwrap()],
        &[],
    );
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("the certificates of --ca-cert / WEIR_CA_CERT do not vouch for it"),
        "{}",
        stderr(&wrong)
    );

    // A --ca-cert that is no certificate is named.
    let not_a_cert = cli(
        &server,
        &["pipelines", "list", "--ca-cert", key.to_str().unwrap()],
        &[],
    );
    assert!(!not_a_cert.status.success());
    assert!(
        stderr(&not_a_cert).contains(&format!(
            "the CA certificate {} holds no PEM certificate",
            key.display()
        )),
        "{}",
        stderr(&not_a_cert)
    );

    // Plain HTTP to the HTTPS port: a plain answer saying so, to a raw client and to the CLI.
    let plain_url = server.url.replace("https://", "http://");
    let (status, body) = http("GET", &format!("{plain_url}/healthz"), None)
        .expect("the HTTPS port answers plain HTTP");
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "This weir server speaks HTTPS: use an https:// URL.\n"
    );
    let plain = cli(
        &server,
        &["pipelines", "list"],
        &[("WEIR_SERVER", &plain_url)],
    );
    assert!(!plain.status.success());
    assert!(
        stderr(&plain).contains("This weir server speaks HTTPS: use an https:// URL."),
        "{}",
        stderr(&plain)
    );

    // A client that sent half a handshake and stopped: still no one is kept out.
    let mut stalled = TcpStream::connect(server.url.trim_start_matches("https://")).unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01]).unwrap();
    let again = cli(&server, &["pipelines", "list"], &[("WEIR_CA_CERT", ca)]);
    assert!(again.status.success(), "{}", stderr(&again));
}

#[test]
fn the_certificate_and_key_named_in_weir_toml_are_relative_to_the_project() {
    let project = Project::new();
    let tls_dir = project.path().join("tls");
    std::fs::create_dir_all(&tls_dir).unwrap();
    let (cert, _) = self_signed_certificate(&tls_dir);
    project.write(
        "weir.toml",
        "[server]\ntls_cert = \"tls/cert.pem\"\ntls_key = \"tls/key.pem\"\n",
    );
    // Started from elsewhere: the paths are the project's, not the working directory's.
    let server = Server::start_https_with_project_flag(project.path(), &[]);
    let health = cli(
        &server,
        &["pipelines", "list", "--ca-cert", cert.to_str().unwrap()],
        &[],
    );
    assert!(health.status.success(), "{}", stderr(&health));
}

#[test]
fn bad_certificate_files_stop_the_start_naming_the_file_and_change_nothing() {
    let project = Project::new();
    let (cert, key) = self_signed_certificate(project.path());
    let missing = project.path().join("missing.pem");
    let elsewhere = tempfile::tempdir().unwrap();
    let (_, other_key) = self_signed_certificate(elsewhere.path());
    let cases: [(&std::path::Path, &std::path::Path, String); 4] = [
        (
            &missing,
            &key,
            format!(
                "error: cannot read the TLS certificate {}",
                missing.display()
            ),
        ),
        (
            &cert,
            &cert,
            format!("error: the TLS key {} holds no private key", cert.display()),
        ),
        (
            &key,
            &key,
            format!(
                "error: the TLS certificate {} holds no PEM certificate",
                key.display()
            ),
        ),
        (
            &cert,
            &other_key,
            format!(
                "error: the TLS key {} does not belong to the certificate {}",
                other_key.display(),
                cert.display()
            ),
        ),
    ];
    let port = free_port().to_string();
    for (cert, key, expected) in cases {
        let output = weir(&[
            "server",
            "--project",
            project.path().to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ]);
        assert!(!output.status.success());
        assert!(
            stderr(&output).starts_with(&expected),
            "{}\nexpected: {expected}",
            stderr(&output)
        );
        assert!(
            !project.path().join(".weir").exists(),
            "a server refused at start wrote its data directory"
        );
    }

    // A certificate without its key is a configuration error.
    let only_cert = weir(&["server", "--tls-cert", cert.to_str().unwrap()]);
    assert!(!only_cert.status.success());
    assert!(
        stderr(&only_cert).contains("--tls-key <FILE>"),
        "{}",
        stderr(&only_cert)
    );
    project.write("weir.toml", "[server]\ntls_cert = \"cert.pem\"\n");
    let validate = weir(&["validate", project.path().to_str().unwrap()]);
    assert!(
        stdout(&validate).contains("server.tls_cert and server.tls_key go together"),
        "{}",
        stdout(&validate)
    );
}

#[test]
fn boto3_calls_step_functions_over_https_trusting_the_certificate() {
    let project = Project::new();
    let (server, cert, _) = https_server(&project);
    let script = r#"
import json, sys, time, boto3, botocore.config, botocore.exceptions
endpoint, ca = sys.argv[1], sys.argv[2]
def client(**tls):
    return boto3.client('stepfunctions', endpoint_url=endpoint, region_name='us-east-1',
                        config=botocore.config.Config(retries={'total_max_attempts': 1}), **tls)
sf = client(verify=ca)
definition = {"StartAt": "Hi", "States": {"Hi": {"Type": "Pass", "Result": {"over": "https"}, "End": True}}}
arn = sf.create_state_machine(name='secure', definition=json.dumps(definition),
                              roleArn='arn:aws:iam::000000000000:role/x')['stateMachineArn']
execution = sf.start_execution(stateMachineArn=arn, input='{}')['executionArn']
for _ in range(500):
    described = sf.describe_execution(executionArn=execution)
    if described['status'] != 'RUNNING':
        break
    time.sleep(0.02)
assert described['status'] == 'SUCCEEDED', described
assert json.loads(described['output']) == {'over': 'https'}, described
# Without the certificate, boto3 refuses the server as it refuses any it cannot verify.
try:
    client().list_state_machines()
    raise AssertionError('an untrusted certificate was accepted')
except botocore.exceptions.SSLError as e:
    assert 'CERTIFICATE_VERIFY_FAILED' in str(e), e
print('ok')
"#;
    python_ok(&server, script, &[&server.url, cert.to_str().unwrap()]);
}

/// The `## TLS` section of docs/security.md, as a shell session: its console blocks run in
/// order in a fresh project; the server starts, with the arguments the section shows, where
/// its `weir server` line is; later commands reach it through `WEIR_SERVER`.
#[test]
fn the_tls_section_of_the_security_guide_runs() {
    let (path, text) = doc("security.md");
    let start = text
        .find("\n## TLS\n")
        .expect("docs/security.md has a `## TLS` section")
        + 1;
    let end = text[start + 1..]
        .find("\n## ")
        .map_or(text.len(), |at| start + 1 + at);
    let lines_before = text[..start].lines().count();
    let mut section = blocks(&text[start..end]);
    for block in &mut section {
        block.line += lines_before;
    }
    let project = Project::new();
    for block in &section {
        if let Some(file) = block.attribute("file") {
            project.write(file, &block.text);
        }
    }
    let mut server: Option<Server> = None;
    let mut ran = 0;
    for block in &section {
        match block.language() {
            "sh" => {
                for line in block.text.lines() {
                    let words = shell_words(line);
                    if words.first().map(String::as_str) == Some("weir")
                        && words.get(1).map(String::as_str) == Some("server")
                    {
                        assert!(server.is_none(), "the section starts one server");
                        let args: Vec<&str> = words[2..].iter().map(String::as_str).collect();
                        server = Some(Server::start_https(project.path(), &args));
                    }
                }
            }
            "console" => {
                for step in steps(block) {
                    run_step(&path, &step, project.path(), server.as_ref(), &[]);
                    ran += 1;
                }
            }
            _ => {}
        }
    }
    assert!(
        server.is_some(),
        "the section shows `weir server` with its TLS flags"
    );
    assert!(ran >= 8, "the TLS section shows too few commands ({ran})");
}
