//! Flags on users that only superusers change.

pub mod set_superuser;
