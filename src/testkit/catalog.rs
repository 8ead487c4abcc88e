//! The support, success and education tables of [`super::Fixture::catalog`].

/// Support and success tables for the catalog metrics. Customers in
/// [S, A) are {1, 3, 4, 5, 8} (2 churns on S, 6 never is one, 7 left before S).
pub const TICKETS: &str = "account_id,created_at,product_area
1,2025-11-05T10:00:00Z,billing
1,2025-12-31T23:59:59Z,admin
1,2026-01-01T00:00:00Z,admin
3,2025-11-20T09:00:00Z,billing
4,2025-10-31T23:00:00-02:00,billing
2,2025-11-10T09:00:00Z,billing
";

pub const CANCELLATIONS: &str = "account_id,requested_at,outcome
1,2025-11-03,Saved
3,2025-12-01,churned
4,2025-11-20,SAVED
2,2025-10-31,saved
";

pub const TOUCHPOINTS: &str = "account_id,contacted_at
1,2025-11-02
1,2025-11-09
8,2025-12-24
3,2025-10-30
";

pub const REFERRALS: &str = "account_id,referred_at
1,2025-11-15
1,2025-12-15
5,2025-12-01
2,2025-11-02
";

/// [`TRAINING`] with enrolments and scores; the cohorts stay the same
/// (new rows are non-qualifying or after the landmark).
pub const TRAINING_EDU: &str = "account_id,course_id,enrolled_at,completed_at,score
1,c1,2025-01-25,2025-01-30T12:00:00Z,90
1,c1,2025-01-15,2025-01-20T00:00:00Z,70
1,c2,2025-11-10,,
2,c1,2025-01-20,2025-01-31T00:00:00Z,60
3,C1,2025-01-01,2025-01-05T00:00:00Z,
3,c9,2025-01-02,2025-01-10T00:00:00Z,
3,c9,2025-12-20,2026-01-02T00:00:00Z,95
4,c2,2025-05-01,2025-05-20T00:00:00Z,85
4,c1,2025-06-10,2025-06-15T00:00:00Z,
4,c2,2025-11-01,2025-11-20T00:00:00Z,100
5,c1,2025-11-05,2025-11-15T00:00:00Z,80
7,c1,2025-02-01,2025-02-10T00:00:00Z,
8,c9,2025-10-01,2025-10-20T00:00:00Z,60
";
