//! DisableRule: the rule stays, but matches no event (and its schedule does not fire) until it
//! is enabled again.

use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    super::enable_rule::set_enabled(call, false).await
}
