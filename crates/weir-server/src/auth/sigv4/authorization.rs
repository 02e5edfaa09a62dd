//! Reading the `Authorization` header
//! (`AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX`)
//! and its credential, as AWS reads them.

use super::error::{Front, SigV4Error};

/// The parameters of an `Authorization` header.
pub(super) struct Authorization {
    pub algorithm: String,
    pub credential: String,
    /// Lowercase header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Splits the header as AWS does: the algorithm up to the first space, then `key=value` pairs
/// separated by commas or spaces (so `Credential= KEY/…` is the pair `Credential=` followed by
/// the stray `KEY/…`). A repeated key keeps its last value. `has_date` says whether the request
/// carries `X-Amz-Date` or `Date`, whose absence AWS reports with the missing parameters.
pub(super) fn parse(
    header: &str,
    has_date: bool,
    front: Front,
) -> Result<Authorization, SigV4Error> {
    let trimmed = header.trim_matches([' ', '\t']);
    let (algorithm, pairs) = trimmed.split_once([' ', '\t']).unwrap_or((trimmed, ""));
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for pair in pairs
        .split([',', ' ', '\t'])
        .filter(|pair| !pair.is_empty())
    {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(SigV4Error::missing_equal_sign(front, pair, header));
        };
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    // An empty credential or signature counts as missing; an empty SignedHeaders is a list of
    // no headers, refused later because it lacks `host`.
    let credential = credential.filter(|value| !value.is_empty());
    let signature = signature.filter(|value| !value.is_empty());
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Credential");
    }
    if signature.is_none() {
        missing.push("Signature");
    }
    if signed_headers.is_none() {
        missing.push("SignedHeaders");
    }
    match (credential, signed_headers, signature) {
        (Some(credential), Some(signed_headers), Some(signature)) if has_date => {
            Ok(Authorization {
                algorithm: algorithm.to_owned(),
                credential: credential.to_owned(),
                signed_headers: signed_headers
                    .split(';')
                    .map(str::to_ascii_lowercase)
                    .collect(),
                signature: signature.to_owned(),
            })
        }
        _ => Err(SigV4Error::missing_parameters(
            front, &missing, !has_date, header,
        )),
    }
}

/// A credential's five elements: `KEY/DATE/REGION/SERVICE/TERMINATOR`.
pub(super) struct Scope<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub terminator: &'a str,
}

impl<'a> Scope<'a> {
    /// Trailing slashes are ignored, as AWS ignores them; an access key id with a slash in it
    /// makes six elements and is refused, as AWS refuses it.
    pub(super) fn parse(credential: &'a str, front: Front) -> Result<Scope<'a>, SigV4Error> {
        let elements: Vec<&str> = credential.trim_end_matches('/').split('/').collect();
        match elements[..] {
            [access_key_id, date, region, service, terminator] => Ok(Scope {
                access_key_id,
                date,
                region,
                service,
                terminator,
            }),
            _ => Err(SigV4Error::credential_elements(front, credential)),
        }
    }
}
