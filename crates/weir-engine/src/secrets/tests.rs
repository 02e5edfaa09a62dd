//! The service over a real SQLite store: sources and their precedence, sealing at rest, a wrong
//! key, masking, template contexts.

use std::sync::Arc;

use serde_json::json;
use weir_store::Committer;

use super::*;

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/weir.db", dir.path().display());
        let store = weir_store::open(&url).await.unwrap();
        Fixture { dir, store }
    }

    fn key_file(&self) -> PathBuf {
        self.dir.path().join("secrets.key")
    }

    async fn secrets(&self, env: &[(&str, &str)]) -> Result<Secrets, EngineError> {
        let secret_dir = self.dir.path().join("mounted");
        std::fs::create_dir_all(&secret_dir).unwrap();
        Secrets::open(
            self.store.clone(),
            Committer::start(self.store.clone()),
            None,
            &self.key_file(),
            Some(secret_dir),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .await
    }
}

#[tokio::test]
async fn set_values_are_sealed_at_rest_and_read_back_after_a_restart() {
    let fixture = Fixture::new().await;
    let secrets = fixture.secrets(&[]).await.unwrap();
    let info = secrets
        .set("db_password", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(info.source, Source::Store);
    assert_eq!(
        secrets.value("db_password").unwrap(),
        "correct horse battery"
    );
    let record = fixture.store.secret("db_password").await.unwrap().unwrap();
    assert!(!record.sealed.contains("correct horse"), "{record:?}");
    drop(secrets);
    let again = fixture.secrets(&[]).await.unwrap();
    assert_eq!(again.value("db_password").unwrap(), "correct horse battery");
    let listed = serde_json::to_string(&again.list()).unwrap();
    assert!(!listed.contains("horse"), "{listed}");
}

#[tokio::test]
async fn a_wrong_key_is_a_clear_error_naming_the_key_file() {
    let fixture = Fixture::new().await;
    fixture
        .secrets(&[])
        .await
        .unwrap()
        .set("token", "abcdef")
        .await
        .unwrap();
    std::fs::remove_file(fixture.key_file()).unwrap();
    let secrets = fixture.secrets(&[]).await.unwrap();
    let error = secrets.value("token").unwrap_err();
    assert!(error.contains("sealed with another key"), "{error}");
    assert!(
        error.contains(&fixture.key_file().display().to_string()),
        "{error}"
    );
    // Setting it again with the new key mends it.
    secrets.set("token", "ghijkl").await.unwrap();
    assert_eq!(secrets.value("token").unwrap(), "ghijkl");
}

#[tokio::test]
async fn a_changed_stored_value_does_not_open() {
    let fixture = Fixture::new().await;
    let secrets = fixture.secrets(&[]).await.unwrap();
    secrets.set("a", "first value").await.unwrap();
    secrets.set("b", "second value").await.unwrap();
    // Someone with write access to the database moves b's sealed value onto a.
    let b = fixture.store.secret("b").await.unwrap().unwrap();
    let moved = SecretRecord {
        name: "a".into(),
        ..b
    };
    fixture
        .store
        .apply(&[SecretMutation::PutSecret(moved).into()])
        .await
        .unwrap();
    let reopened = fixture.secrets(&[]).await.unwrap();
    let error = reopened.value("a").unwrap_err();
    assert!(error.contains("changed or damaged"), "{error}");
    assert_eq!(reopened.value("b").unwrap(), "second value");
}

#[tokio::test]
async fn the_environment_wins_over_files_which_win_over_the_store() {
    let fixture = Fixture::new().await;
    let secrets = fixture
        .secrets(&[("WEIR_SECRET_shared", "from-env"), ("OTHER", "x")])
        .await
        .unwrap();
    std::fs::write(fixture.dir.path().join("mounted/shared"), "from-file\n").unwrap();
    std::fs::write(
        fixture.dir.path().join("mounted/mounted_only"),
        "file value\r\n",
    )
    .unwrap();
    std::fs::write(fixture.dir.path().join("mounted/..data"), "not a secret").unwrap();
    secrets.set("shared", "from-store").await.unwrap();
    secrets.set("stored_only", "stored value").await.unwrap();
    assert_eq!(secrets.value("shared").unwrap(), "from-env");
    assert_eq!(secrets.value("mounted_only").unwrap(), "file value");
    assert_eq!(secrets.value("stored_only").unwrap(), "stored value");
    let error = secrets.value("nothing").unwrap_err();
    assert!(error.contains("secret `nothing` is not set"), "{error}");
    let listed: Vec<(String, Source, bool)> = secrets
        .list()
        .into_iter()
        .map(|i| (i.name, i.source, i.shadows_stored))
        .collect();
    assert_eq!(
        listed,
        [
            ("mounted_only".into(), Source::File, false),
            ("shared".into(), Source::Environment, true),
            ("stored_only".into(), Source::Store, false),
        ]
    );
    let error = secrets
        .remove("mounted_only")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("comes from a file"), "{error}");
    secrets.remove("shared").await.unwrap();
    assert_eq!(secrets.value("shared").unwrap(), "from-env");
    assert!(
        secrets
            .remove("shared")
            .await
            .unwrap_err()
            .to_string()
            .contains("environment")
    );
}

#[tokio::test]
async fn bad_names_and_values_are_refused() {
    let fixture = Fixture::new().await;
    let secrets = fixture.secrets(&[]).await.unwrap();
    for (name, value, why) in [
        ("bad-name", "v", "not a secret name"),
        ("ok", "a\0b", "NUL"),
        ("ok", &"x".repeat(MAX_VALUE_BYTES + 1), "at most"),
    ] {
        let error = secrets.set(name, value).await.unwrap_err().to_string();
        assert!(error.contains(why), "{error}");
    }
    assert!(fixture.store.secrets().await.unwrap().is_empty());
}

#[tokio::test]
async fn every_source_is_masked_and_templates_get_what_they_read() {
    let fixture = Fixture::new().await;
    let secrets = fixture
        .secrets(&[("WEIR_SECRET_env_one", "env-value")])
        .await
        .unwrap();
    secrets.set("stored", "stored-value").await.unwrap();
    secrets.set("tiny", "ab").await.unwrap();
    let masker = secrets.masker();
    assert_eq!(
        masker.mask("env-value stored-value ab"),
        "*** *** ab",
        "values under {MIN_MASKED_LEN} bytes are not masked"
    );
    let context = json!({"ds": "2026-01-15"});
    assert_eq!(secrets.contexts(["echo {{ ds }}"], &context).unwrap(), None);
    let (real, shown) = secrets
        .contexts(["curl -u {{ secrets.stored }}"], &context)
        .unwrap()
        .unwrap();
    assert_eq!(
        real,
        json!({"ds": "2026-01-15", "secrets": {"stored": "stored-value"}})
    );
    assert_eq!(
        shown,
        json!({"ds": "2026-01-15", "secrets": {"stored": "***"}})
    );
    let error = secrets
        .contexts(["{{ secrets.missing }}"], &context)
        .unwrap_err();
    assert!(error.contains("secret `missing` is not set"), "{error}");
    secrets.remove("stored").await.unwrap();
    assert_eq!(secrets.masker().mask("stored-value"), "stored-value");
}
