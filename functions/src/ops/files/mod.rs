//! Files on a user: licences, certifications, pictures. The bytes go straight to the file store
//! through an upload URL (S3 presigned on AWS, the local server locally) and come back through a
//! short-lived download URL; the operations only keep what each file is.

pub mod create;
pub mod get;
pub mod list;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use guardpost_shared::access::{Permission, authorize_self};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{BoundedText, FileId, OrgSlug, UserId, Validator, schema};
use guardpost_shared::files::{self, CONTENT_TYPES, MAX_BYTES, UploadTicket};
use guardpost_shared::records::file::{FileKind, FileStatus, UserFile};
use guardpost_shared::{AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::ops::users::authorize_user;

/// A picture declared with something else (a client access's picture): its bytes follow through
/// the upload ticket of the answer.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPicture {
    #[schema(value_type = FileName)]
    pub name: String,
    /// `image/png`, `image/jpeg` or `image/webp`.
    #[schema(value_type = PictureContentType)]
    pub content_type: String,
    /// Bytes: 1 to 10,485,760.
    #[schema(minimum = 1, maximum = 10485760)]
    #[serde(deserialize_with = "guardpost_shared::http::number::whole_number")]
    pub size: u64,
}

impl NewPicture {
    /// The picture as declared, with its checked name.
    pub(crate) fn declared(&self, name: String) -> Declared {
        Declared {
            kind: FileKind::Picture,
            name,
            content_type: self.content_type.clone(),
            size: self.size,
            expires_on: None,
        }
    }
}

/// A file's name as `check_declared` takes it: `BoundedText<1, 200>` (trimmed, 1 to 200
/// characters, no control characters) without `/` or `\`.
pub struct FileName;

impl PartialSchema for FileName {
    fn schema() -> RefOr<Schema> {
        AllOfBuilder::new()
            .description(Some("A file name without / or \\: trimmed, 1 to 200 characters, no control characters"))
            .item(schema::Line::schema())
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^[^/\\]*$")))
            .into()
    }
}

impl ToSchema for FileName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FileName")
    }
}

/// The content types `check_declared` allows for a file: [`CONTENT_TYPES`].
pub struct FileContentType;

impl PartialSchema for FileContentType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A content type of the allow list"))
            .enum_values(Some(CONTENT_TYPES.iter().copied()))
            .into()
    }
}

impl ToSchema for FileContentType {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FileContentType")
    }
}

/// The content types `check_declared` allows for a picture: the images of [`CONTENT_TYPES`].
pub struct PictureContentType;

impl PartialSchema for PictureContentType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An image content type of the allow list"))
            .enum_values(Some(CONTENT_TYPES.iter().copied().filter(|t| t.starts_with("image/"))))
            .into()
    }
}

impl ToSchema for PictureContentType {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PictureContentType")
    }
}

/// Checks a declared file (name, type from the allow list, size), recording problems under
/// `prefix`; answers the name.
pub(crate) fn check_declared(
    v: &mut Validator,
    prefix: &str,
    name: &str,
    content_type: &str,
    size: u64,
    images_only: bool,
) -> Option<String> {
    let field = |f: &str| if prefix.is_empty() { f.to_owned() } else { format!("{prefix}.{f}") };
    let parsed = v.check(&field("name"), BoundedText::<1, 200>::parse(name));
    if name.contains(['/', '\\']) {
        v.fail(&field("name"), "a file name, without folders");
    }
    let allowed: Vec<&str> =
        CONTENT_TYPES.iter().copied().filter(|t| !images_only || t.starts_with("image/")).collect();
    if !allowed.contains(&content_type) {
        v.fail(&field("content_type"), format!("must be one of {}", allowed.join(", ")));
    }
    if size == 0 || size > MAX_BYTES {
        v.fail(&field("size"), format!("must be 1 to {MAX_BYTES} bytes"));
    }
    parsed.map(BoundedText::into_inner)
}

/// What a client declared of a file, checked.
pub(crate) struct Declared {
    pub kind: FileKind,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub expires_on: Option<chrono::NaiveDate>,
}

/// A new file record of `user`, waiting for its bytes.
pub(crate) fn pending(state: &AppState, principal: &Principal, user: UserId, d: Declared) -> UserFile {
    UserFile {
        id: FileId::from_ulid(state.new_ulid()),
        user_id: user,
        kind: d.kind,
        name: d.name,
        content_type: d.content_type,
        size: d.size,
        expires_on: d.expires_on,
        status: FileStatus::Pending,
        uploaded_at: None,
        created_at: state.now(),
        created_by: principal.user.id,
    }
}

/// The ticket to upload a file's bytes (15 minutes).
pub(crate) async fn ticket(state: &AppState, org: &OrgSlug, file: &UserFile) -> AppResult<UploadTicket> {
    let key = files::object_key(org, &file.user_id, &file.id);
    let expires_at = state.now() + chrono::Duration::minutes(UPLOAD_MINUTES);
    Ok(state.files.upload(&key, &file.content_type, file.size, expires_at).await?)
}

/// How long an upload URL works.
const UPLOAD_MINUTES: i64 = 15;

/// A file as listed: whether a licence or certification has expired.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    #[serde(flatten)]
    pub file: UserFile,
    /// Its `expires_on` has passed.
    pub expired: bool,
}

impl FileView {
    pub fn new(file: UserFile, now: DateTime<Utc>) -> Self {
        let expired = file.expires_on.is_some_and(|d| d < now.date_naive());
        Self { file, expired }
    }
}

/// One's own files are one's own; someone else's need `employee` (employees, through their
/// sites) or `client` (a client user, over the site of their access), and, to add one, to hold
/// what they hold.
pub(crate) async fn authorize_files(
    state: &AppState,
    principal: &Principal,
    id: &UserId,
    employee: Permission,
    client: Permission,
    adding: bool,
) -> AppResult<()> {
    if *id == principal.user.id {
        authorize_self(state, principal).await?;
    } else {
        authorize_user(state, principal, id, employee, client, adding).await?;
    }
    Ok(())
}
