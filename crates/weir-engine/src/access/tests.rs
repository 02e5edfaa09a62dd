use super::*;

async fn open(dir: &Path) -> Access {
    let store = weir_store::open(&format!("sqlite://{}", dir.join("weir.db").display()))
        .await
        .unwrap();
    Access::open(store, dir).await.unwrap()
}

fn admin_token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(ADMIN_TOKEN_FILE))
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn the_first_start_writes_a_private_admin_token_that_works() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let access = open(dir.path()).await;
    let token = admin_token(dir.path());
    let mode = std::fs::metadata(dir.path().join(ADMIN_TOKEN_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let caller = access.by_token(&token).unwrap();
    assert_eq!((caller.name.as_str(), caller.role), (ADMIN, Role::Admin));

    // A restart keeps the same token (and makes its file private again if it was loosened);
    // the database holds only its hash.
    drop(access);
    let file = dir.path().join(ADMIN_TOKEN_FILE);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let access = open(dir.path()).await;
    assert!(access.by_token(&token).is_ok());
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let database = std::fs::read(dir.path().join("weir.db")).unwrap();
    assert!(
        !database.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is stored in clear"
    );
}

#[tokio::test]
async fn deleting_the_admin_token_file_issues_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let access = open(dir.path()).await;
    let old = admin_token(dir.path());
    drop(access);
    std::fs::remove_file(dir.path().join(ADMIN_TOKEN_FILE)).unwrap();
    let access = open(dir.path()).await;
    let new = admin_token(dir.path());
    assert_ne!(old, new);
    assert_eq!(access.by_token(&old).unwrap_err(), Refusal::Unknown);
    assert!(access.by_token(&new).is_ok());
}

#[tokio::test]
async fn created_credentials_work_until_revoked_or_expired() {
    let dir = tempfile::tempdir().unwrap();
    let access = open(dir.path()).await;
    let issued = access
        .create(NewCredential {
            name: Some("ci".into()),
            role: Some(Role::Operator),
            grants: Grants {
                pipelines: vec!["etl_*".into()],
                ..Grants::default()
            },
            expires_at: None,
        })
        .await
        .unwrap();
    let caller = access.by_token(&issued.token).unwrap();
    assert_eq!(caller.role, Role::Operator);
    assert!(caller.grants.pipeline("etl_x") && !caller.grants.pipeline("ml"));
    let (by_key, secret) = access.by_access_key(&issued.access_key_id).unwrap();
    assert_eq!(
        (by_key.name.as_str(), secret),
        ("ci", issued.secret_access_key.clone())
    );

    // One active credential per name.
    let again = access
        .create(NewCredential {
            name: Some("ci".into()),
            ..NewCredential::default()
        })
        .await;
    assert!(matches!(again, Err(AccessError::Exists(_))));

    access.revoke("ci").await.unwrap();
    assert_eq!(
        access.by_token(&issued.token).unwrap_err(),
        Refusal::Revoked
    );
    assert_eq!(
        access.by_access_key(&issued.access_key_id).unwrap_err(),
        Refusal::Revoked
    );
    assert!(matches!(
        access.revoke("ci").await,
        Err(AccessError::NotFound(_))
    ));
    // Revocation survives a restart.
    drop(access);
    let access = open(dir.path()).await;
    assert_eq!(
        access.by_token(&issued.token).unwrap_err(),
        Refusal::Revoked
    );
    let listed = access.list();
    let ci = listed.iter().find(|c| c.name == "ci").unwrap();
    assert_eq!(ci.state, "revoked");
    // A revoked name may be issued again.
    assert!(
        access
            .create(NewCredential {
                name: Some("ci".into()),
                ..NewCredential::default()
            })
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn expiry_and_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let access = open(dir.path()).await;
    let past = NewCredential {
        expires_at: Some(1),
        ..NewCredential::default()
    };
    assert!(matches!(
        access.create(past).await,
        Err(AccessError::Invalid(_))
    ));
    let soon = access
        .create(NewCredential {
            expires_at: Some(now_micros() + 200_000),
            ..NewCredential::default()
        })
        .await
        .unwrap();
    assert!(access.by_token(&soon.token).is_ok());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(access.by_token(&soon.token).unwrap_err(), Refusal::Expired);
    for name in ["", "has space", "slash/", &"x".repeat(65)] {
        let bad = NewCredential {
            name: Some(name.to_string()),
            ..NewCredential::default()
        };
        assert!(
            matches!(access.create(bad).await, Err(AccessError::Invalid(_))),
            "{name:?}"
        );
    }
    let bad_grant = NewCredential {
        grants: Grants {
            tables: vec!["nodot".into()],
            ..Grants::default()
        },
        ..NewCredential::default()
    };
    assert!(matches!(
        access.create(bad_grant).await,
        Err(AccessError::Invalid(_))
    ));
    assert_eq!(
        access.by_token("weir_nonsense").unwrap_err(),
        Refusal::Unknown
    );
}

fn audit_record(status: i32) -> AuditRecord {
    AuditRecord {
        at: now_micros(),
        credential: None,
        role: None,
        source: "127.0.0.1:1".into(),
        action: "GET /x".into(),
        target: "/x".into(),
        outcome: "unauthenticated".into(),
        status,
        detail: None,
    }
}

#[tokio::test]
async fn audit_entries_are_committed() {
    let dir = tempfile::tempdir().unwrap();
    let access = open(dir.path()).await;
    for status in [200, 401] {
        access.audit(audit_record(status)).await;
    }
    let entries = access.audit_log(0, None, 10).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].record.status, 401);
}

/// A client calling one after another gets its entries committed together, not one commit each
/// (which held the database's one writer when the calls' own work needed it), and a reader of the
/// log sees every entry queued before it reads.
#[tokio::test]
async fn a_sequential_callers_entries_share_a_commit_and_are_read_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = weir_store::open(&format!(
        "sqlite://{}",
        dir.path().join("weir.db").display()
    ))
    .await
    .unwrap();
    let store = weir_store::fault::FaultyStore::new(sqlite);
    let access = Access::open(store.clone(), dir.path()).await.unwrap();
    let commits_before = store.applies();
    for status in 200..210 {
        access.audit(audit_record(status)).await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let entries = access.audit_log(0, None, 100).await.unwrap();
    assert_eq!(entries.len(), 10);
    assert_eq!(store.applies() - commits_before, 1);
    // Flushing with nothing queued commits nothing.
    access.flush_audit().await;
    assert_eq!(store.applies() - commits_before, 1);
}

#[tokio::test]
async fn sessions_name_their_credential_and_end_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let access = open(dir.path()).await;
    let issued = access
        .create(NewCredential {
            name: Some("web.user".into()),
            role: Some(Role::Operator),
            ..NewCredential::default()
        })
        .await
        .unwrap();
    let hour = std::time::Duration::from_secs(3600);
    let (session, caller) = access.new_session(&issued.token, hour).unwrap();
    assert_eq!(caller.name, "web.user");
    assert_eq!(access.by_session(&session).unwrap().name, "web.user");
    // A forged or altered cookie is refused.
    let forged = session.replace("web.user", "admin");
    assert_eq!(access.by_session(&forged).unwrap_err(), Refusal::Unknown);
    assert_eq!(access.by_session("garbage").unwrap_err(), Refusal::Unknown);
    let csrf = access.csrf_token(&session);
    assert!(access.check_csrf_token(&session, &csrf));
    assert!(!access.check_csrf_token(&forged, &csrf));
    // Signing out ends that session alone, here and after a restart.
    let (other, _) = access.new_session(&issued.token, hour).unwrap();
    access.end_session(&session).await.unwrap();
    assert_eq!(access.by_session(&session).unwrap_err(), Refusal::Revoked);
    assert!(access.by_session(&other).is_ok());
    drop(access);
    let access = open(dir.path()).await;
    assert_eq!(access.by_session(&session).unwrap_err(), Refusal::Revoked);
    assert!(access.by_session(&other).is_ok());
    let session = other;
    // Revoking the credential ends its sessions, and a new one of the same name does not revive them.
    access.revoke("web.user").await.unwrap();
    assert!(access.by_session(&session).is_err());
    access
        .create(NewCredential {
            name: Some("web.user".into()),
            ..NewCredential::default()
        })
        .await
        .unwrap();
    assert_eq!(access.by_session(&session).unwrap_err(), Refusal::Unknown);
    assert_eq!(
        access.new_session("weir_unknown", hour).unwrap_err(),
        Refusal::Unknown
    );
}

#[tokio::test]
async fn one_of_two_creations_of_a_name_at_once_wins_and_its_token_works() {
    let dir = tempfile::tempdir().unwrap();
    let access = open(dir.path()).await;
    let creations: Vec<_> = (0..8)
        .map(|_| {
            let access = access.clone();
            tokio::spawn(async move {
                access
                    .create(NewCredential {
                        name: Some("ci".into()),
                        ..NewCredential::default()
                    })
                    .await
            })
        })
        .collect();
    let mut issued = Vec::new();
    for creation in creations {
        match creation.await.unwrap() {
            Ok(credential) => issued.push(credential),
            Err(error) => assert!(matches!(error, AccessError::Exists(_)), "{error}"),
        }
    }
    assert_eq!(issued.len(), 1);
    assert_eq!(access.by_token(&issued[0].token).unwrap().name, "ci");
}
