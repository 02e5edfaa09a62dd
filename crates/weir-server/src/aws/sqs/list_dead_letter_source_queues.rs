//! ListDeadLetterSourceQueues: the URLs of the queues whose redrive policy names this queue as
//! their dead-letter queue, a page at a time (`queueUrls`, in the model's lower case).

use super::{Answer, Call, paging, queue_named_in};

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let (urls, _) = call
        .queues
        .list_dead_letter_source_queues(queue, None, None)?;
    let mut urls: Vec<String> = urls
        .into_iter()
        .filter(|url| (call.granted)(queue_named_in(url)))
        .collect();
    urls.sort();
    paging::page(call.request, urls, "queueUrls")
}
