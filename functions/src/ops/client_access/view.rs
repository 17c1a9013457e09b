//! How a client access is shown: TrackTik's list (name, email, phone, last login, the sub-sites
//! the client can see, access level, status) plus the state of the invitation.

use chrono::{DateTime, Utc};
use guardpost_shared::domain::utc;
use guardpost_shared::domain::{Phone, SiteId};
use guardpost_shared::files::UploadTicket;
use guardpost_shared::records::client_access::ClientAccess;
use guardpost_shared::records::site::Site;
use guardpost_shared::records::user::UserStatus;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ClientAccessStatus, Parts};

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientAccessView {
    /// The client user's id (also the access's id).
    pub id: String,
    /// The site the access was given for.
    pub site_id: String,
    pub first_name: String,
    pub last_name: String,
    /// The client's login; report notifications go here too.
    pub email: Option<String>,
    pub phone: Option<Phone>,
    /// The client-portal role: the access level.
    pub role_id: String,
    pub role_name: Option<String>,
    pub status: ClientAccessStatus,
    /// For a master site: each sub-site and whether the client sees it ("Yes" / "No").
    pub sub_sites: Vec<SubSiteVisibility>,
    #[serde(default, with = "utc::option")]
    pub last_login_at: Option<DateTime<Utc>>,
    /// The client has not set a password yet (an invitation is out).
    pub invitation_pending: bool,
    /// When the last invitation was asked for.
    #[serde(default, with = "utc::option")]
    pub invited_at: Option<DateTime<Utc>>,
    /// The client's picture: a file of the client user (`GET /v1/users/{id}/files/{file_id}`).
    pub picture_file_id: Option<String>,
    /// Where to upload the picture just declared (in the answer of the change that declared it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_upload: Option<UploadTicket>,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SubSiteVisibility {
    pub id: String,
    pub name: String,
    pub visible: bool,
}

impl SubSiteVisibility {
    /// Every sub-site of the master, visible unless hidden.
    pub fn list(subs: &[Site], hidden: &[SiteId]) -> Vec<Self> {
        subs.iter()
            .map(|s| Self { id: s.id.to_string(), name: s.name.clone(), visible: !hidden.contains(&s.id) })
            .collect()
    }
}

impl ClientAccessView {
    pub(crate) fn new(record: &ClientAccess, parts: &Parts, role_name: Option<String>, subs: &[Site]) -> Self {
        let user = &parts.user.record;
        let assignment = record.assignment(&parts.access.record);
        let hidden = assignment.map(|a| a.hidden_sites.as_slice()).unwrap_or_default();
        Self {
            id: record.id.to_string(),
            site_id: record.site_id.to_string(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: user.main_phone.clone(),
            role_id: assignment.map(|a| a.role_id.to_string()).unwrap_or_default(),
            role_name,
            status: if user.status == UserStatus::Active {
                ClientAccessStatus::Active
            } else {
                ClientAccessStatus::Revoked
            },
            sub_sites: SubSiteVisibility::list(subs, hidden),
            last_login_at: parts.last_login_at,
            invitation_pending: parts.credential.as_ref().is_none_or(|c| c.record.password_hash.is_none()),
            invited_at: record.invited_at,
            picture_file_id: record.picture_file_id.map(|f| f.to_string()),
            picture_upload: None,
            created_at: record.created_at,
            created_by: record.created_by.to_string(),
        }
    }
}
