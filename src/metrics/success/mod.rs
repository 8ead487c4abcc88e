//! Customer success: support tickets, saves of cancellations, success
//! touchpoints and referrals.

pub mod customer_base_coverage;
pub mod referral_rate;
pub mod save_rate;
pub mod support_incident_rate;
pub mod tickets_by_account;
