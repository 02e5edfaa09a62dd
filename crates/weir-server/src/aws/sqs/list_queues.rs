//! ListQueues: the URLs of the queues whose names start with `QueueNamePrefix`, a page at a
//! time; only those the caller's grants cover. SQS leaves `QueueUrls` out when there are none.

use super::{Answer, Call, paging, queue_named_in};

pub async fn handle(call: &Call<'_>) -> Answer {
    let prefix = call.text("QueueNamePrefix")?;
    // Every queue of the prefix (up to 1,000), paged here after the grants' filter.
    let (urls, _) = call.queues.list_queues(prefix, None, None)?;
    let mut urls: Vec<String> = urls
        .into_iter()
        .filter(|url| (call.granted)(queue_named_in(url)))
        .collect();
    urls.sort();
    let mut answer = paging::page(call.request, urls, "QueueUrls")?;
    if answer["QueueUrls"].as_array().is_some_and(Vec::is_empty)
        && let Some(fields) = answer.as_object_mut()
    {
        fields.remove("QueueUrls");
    }
    Ok(answer)
}
