pub(crate) mod chart;
pub(crate) mod layout;
