//! The digests SQS returns so a client can check what it received: MD5 of the body as UTF-8, and
//! MD5 of message (or system) attributes in SQS's documented binary encoding ("Calculating the
//! MD5 message digest for message attributes"): attributes sorted by name, each as the name,
//! the data type, a transport byte (1 string, 2 binary, 3 string list, 4 binary list) and the
//! value, every string and value preceded by its length as a 4-byte big-endian integer.

use md5::{Digest, Md5};

use super::message::MessageAttributeValue;

/// MD5 of a message body, in lowercase hex.
pub fn md5_of_body(body: &str) -> String {
    hex::encode(Md5::digest(body.as_bytes()))
}

/// MD5 of message attributes (`None` for none, as SQS leaves the member out).
pub fn md5_of_attributes<'a>(
    attributes: impl IntoIterator<Item = (&'a String, &'a MessageAttributeValue)>,
) -> Option<String> {
    let mut sorted: Vec<(&String, &MessageAttributeValue)> = attributes.into_iter().collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut bytes = Vec::new();
    for (name, value) in sorted {
        put(&mut bytes, name.as_bytes());
        put(&mut bytes, value.data_type.as_bytes());
        if let Some(text) = &value.string_value {
            bytes.push(1);
            put(&mut bytes, text.as_bytes());
        } else if let Some(binary) = &value.binary_value {
            bytes.push(2);
            put(&mut bytes, binary);
        } else if !value.string_list_values.is_empty() {
            bytes.push(3);
            for text in &value.string_list_values {
                put(&mut bytes, text.as_bytes());
            }
        } else {
            bytes.push(4);
            for binary in &value.binary_list_values {
                put(&mut bytes, binary);
            }
        }
    }
    Some(hex::encode(Md5::digest(&bytes)))
}

fn put(bytes: &mut Vec<u8>, value: &[u8]) {
    bytes.extend_from_slice(&(value.len() as u32).to_be_bytes());
    bytes.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn string(data_type: &str, value: &str) -> MessageAttributeValue {
        MessageAttributeValue {
            data_type: data_type.into(),
            string_value: Some(value.into()),
            ..Default::default()
        }
    }

    #[test]
    fn body_digest_is_md5_of_utf8() {
        // RFC 1321's test suite.
        assert_eq!(md5_of_body(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            md5_of_body("message digest"),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
    }

    #[test]
    fn attribute_digests_match_the_published_examples() {
        // The examples of the aws-md5-of-message-attributes package, checked against SQS.
        let simple =
            BTreeMap::from([("attribName1".to_string(), string("String", "attribValue 1"))]);
        assert_eq!(
            md5_of_attributes(&simple).as_deref(),
            Some("19e27d4e946b072f3f58da80d94fd778")
        );
        let custom = BTreeMap::from([(
            "customNumberTypeAttrib".to_string(),
            string("Number.float", "4563442423554324324264524243.32543234"),
        )]);
        assert_eq!(
            md5_of_attributes(&custom).as_deref(),
            Some("9fe1b90bbd9965bdf77bac517c7d2495")
        );
        let binary = MessageAttributeValue {
            data_type: "Binary".into(),
            binary_value: Some(b"Hello binary world!".to_vec()),
            ..Default::default()
        };
        let binary_only = BTreeMap::from([("binaryAttribute".to_string(), binary.clone())]);
        assert_eq!(
            md5_of_attributes(&binary_only).as_deref(),
            Some("31a92b15d92f8db860eda32aceb656c3")
        );
        let mut all = simple.clone();
        all.extend(custom);
        all.extend(binary_only);
        assert_eq!(
            md5_of_attributes(&all).as_deref(),
            Some("c932db14a896c663f83c260297d594ff")
        );
        assert_eq!(md5_of_attributes(&BTreeMap::new()), None);
    }
}
