//! HTTP plumbing shared by every operation: problem details, the JSON body extractor, the
//! authenticated principal extractor, pagination and the idempotency layer.

pub mod auth;
pub mod idempotency;
pub mod json;
pub mod number;
pub mod page;
pub mod problem;
pub mod query;
pub mod respond;

pub use auth::{ClientInfo, ClientIp, PasswordChanger, bearer_of};
pub use json::{Body, OptionalBody, present};
pub use page::{PageParams, Paged, page_in_memory};
pub use problem::Problem;
pub use query::Params;
pub use respond::{Accepted, Created, IfMatch, NoContent, Tagged, path_id};
