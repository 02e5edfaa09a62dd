//! Step Functions' members as its API model declares them (the `states-2016-11-23` service
//! model): the shapes its operations share, over the protocols' shared field checks
//! (`aws/fields.rs`).

use weir_engine::machines::MAX_DATA_BYTES;

pub use crate::aws::fields::{Member, Request};

/// A tag's members (`Tag`): keys of 1–128 characters and values of 0–256.
const TAG: &[Member] = &[Member::text("key", 1, 128), Member::text("value", 0, 256)];

impl Member {
    /// `Arn`: 1–256 characters.
    pub const fn arn(name: &'static str) -> Member {
        Member::text(name, 1, 256)
    }

    /// `Name` (machines and executions): 1–80 characters. The characters it may not hold are
    /// the engine's to refuse, with `InvalidName`, once the machine is known to exist.
    pub const fn name(name: &'static str) -> Member {
        Member::text(name, 1, 80)
    }

    /// `SensitiveData` (an execution's input, a task's output): JSON text of at most
    /// [`MAX_DATA_BYTES`] bytes of UTF-8.
    pub const fn data(name: &'static str) -> Member {
        Member::utf8_bytes(name, MAX_DATA_BYTES).secret()
    }

    /// `Definition`: 1–1,048,576 characters.
    pub const fn definition() -> Member {
        Member::text("definition", 1, 1_048_576).secret()
    }

    /// `SensitiveError`: at most 256 characters.
    pub const fn error() -> Member {
        Member::text("error", 0, 256).secret()
    }

    /// `SensitiveCause`: at most 32,768 characters.
    pub const fn cause() -> Member {
        Member::text("cause", 0, 32_768).secret()
    }

    /// `TaskToken`: 1–2048 characters.
    pub const fn task_token() -> Member {
        Member::text("taskToken", 1, 2048)
    }

    /// `ClientToken`: 1–64 printable ASCII characters.
    pub const fn client_token() -> Member {
        Member::matching("clientToken", 1, 64, "[!-~]+", |s| {
            s.chars().all(|c| ('!'..='~').contains(&c))
        })
    }

    /// `PageSize`: 0–1000.
    pub const fn page_size() -> Member {
        Member::integer("maxResults", 0, 1000)
    }

    /// `VersionDescription`: at most 256 characters.
    pub const fn version_description() -> Member {
        Member::text("versionDescription", 0, 256).secret()
    }

    /// `PageToken` (`nextToken`): 1–1024 characters.
    pub const fn page_token() -> Member {
        Member::text("nextToken", 1, 1024)
    }

    /// `ListExecutionsPageToken` (ListExecutions' `nextToken`): 1–3096 characters.
    pub const fn executions_page_token() -> Member {
        Member::text("nextToken", 1, 3096)
    }

    /// `TagList`.
    pub const fn tags() -> Member {
        Member::structures("tags", 0, usize::MAX, TAG)
    }
}
#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn refusal(request: Value, members: &[Member]) -> String {
        match Request(&request).validate(members) {
            Ok(()) => String::new(),
            Err(error) => format!("{}: {}", error.code, error.message),
        }
    }

    /// A definition over its limit cannot reach the API in one request (the request quota is
    /// smaller), but a caller of the model's checks gets AWS's text for it all the same.
    #[test]
    fn lengths_count_characters_and_data_counts_bytes() {
        let definition = Member::definition().required();
        assert_eq!(
            refusal(json!({"definition": "é".repeat(1_048_576)}), &[definition]),
            "",
            "characters, not bytes"
        );
        assert_eq!(
            refusal(json!({"definition": "x".repeat(1_048_577)}), &[definition]),
            "ValidationException: 1 validation error detected: Value at 'definition' failed to \
             satisfy constraint: Member must have length less than or equal to 1048576"
        );
        let name = Member::name("name");
        assert_eq!(refusal(json!({"name": "名".repeat(80)}), &[name]), "");
        assert_eq!(
            refusal(
                json!({"input": "é".repeat(131_072)}),
                &[Member::data("input")]
            ),
            "",
            "262,144 bytes exactly"
        );
        assert_eq!(
            refusal(
                json!({"maxResults": 0, "name": null}),
                &[Member::page_size(), name]
            ),
            "",
            "0 and null are allowed"
        );
    }
}
