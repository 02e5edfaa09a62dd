//! What ListQueues and ListDeadLetterSourceQueues share: `MaxResults` (1–1,000) and
//! `NextToken`. Without `MaxResults` a listing gives up to 1,000 URLs and no token ("You must
//! set MaxResults to receive a value for NextToken in the response"); with it, a page and a
//! token for the next while more remain. A token is the last URL of its page, in base64.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::{AwsError, errors, integer_of, text_of};

/// Most URLs a listing gives.
const MAX_RESULTS: i64 = 1000;

/// A page of `urls` (sorted) under `member`, after the `request`'s `NextToken`.
pub fn page(request: &Value, urls: Vec<String>, member: &str) -> Result<Value, AwsError> {
    let max = match integer_of(request, "MaxResults")? {
        Some(n) if !(1..=MAX_RESULTS).contains(&n) => {
            return Err(errors::invalid_value(format!(
                "Value {n} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and {MAX_RESULTS}."
            )));
        }
        other => other,
    };
    let after = match text_of(request, "NextToken")? {
        None => None,
        Some(token) => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| errors::invalid_value("Invalid NextToken value."))?,
        ),
    };
    let mut remaining: Vec<String> = urls
        .into_iter()
        .filter(|url| after.as_deref().is_none_or(|after| url.as_str() > after))
        .collect();
    let limit = max.unwrap_or(MAX_RESULTS) as usize;
    let more = remaining.len() > limit;
    remaining.truncate(limit);
    let mut answer = Map::new();
    if more
        && max.is_some()
        && let Some(last) = remaining.last()
    {
        answer.insert("NextToken".into(), json!(URL_SAFE_NO_PAD.encode(last)));
    }
    answer.insert(member.into(), json!(remaining));
    Ok(Value::Object(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_need_max_results_for_a_token() {
        let urls: Vec<String> = ["a", "b", "c"].map(str::to_string).to_vec();
        assert_eq!(
            page(&json!({}), urls.clone(), "QueueUrls").unwrap(),
            json!({"QueueUrls": ["a", "b", "c"]})
        );
        let first = page(&json!({"MaxResults": 2}), urls.clone(), "QueueUrls").unwrap();
        assert_eq!(first["QueueUrls"], json!(["a", "b"]));
        let token = first["NextToken"].as_str().unwrap();
        let rest = page(
            &json!({"MaxResults": 2, "NextToken": token}),
            urls.clone(),
            "QueueUrls",
        )
        .unwrap();
        assert_eq!(rest, json!({"QueueUrls": ["c"]}));
        let refused = page(&json!({"MaxResults": 0}), urls.clone(), "QueueUrls").unwrap_err();
        assert_eq!(
            refused.message,
            "Value 0 for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
        );
        assert!(page(&json!({"NextToken": "*"}), urls, "QueueUrls").is_err());
    }
}
