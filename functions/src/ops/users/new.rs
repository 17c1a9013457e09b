//! Writing a new user (an employee or a client user): the profile, the credential, the access
//! item and one uniqueness claim per employee number, email and username, in one transaction
//! with whatever else the operation writes; a taken claim answers 409 naming the field.

use axum::response::{IntoResponse, Response};
use guardpost_shared::domain::OrgSlug;
use guardpost_shared::http::idempotency;
use guardpost_shared::records::role::{Assignment, UserAccess};
use guardpost_shared::records::user::{self, Credential, LoginName, User};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Condition, StoreError, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};

/// The items a new user is: profile, credential, and one uniqueness claim per employee number,
/// email and username (each must not exist yet).
pub(crate) struct UserOps {
    ops: Vec<TxOp>,
    /// For each position of `ops`, the field and problem type when its condition fails.
    claims: Vec<Option<(&'static str, &'static str)>>,
}

pub(crate) fn user_ops(
    org: &OrgSlug,
    employee: &User,
    credential: &Credential,
    assignment: Option<Assignment>,
) -> AppResult<UserOps> {
    let access = UserAccess {
        user_id: Some(employee.id),
        assignments: assignment.into_iter().collect(),
        sessions_valid_after: None,
    };
    let claim = LoginName { user_id: employee.id };
    let mut out = UserOps {
        ops: vec![
            TxOp::put(employee.item(org, 1)?, Condition::NotExists),
            TxOp::put(credential.item(org, &employee.id, 1)?, Condition::NotExists),
            TxOp::put(access.item(org, &employee.id, 1)?, Condition::NotExists),
        ],
        claims: vec![None, None, None],
    };
    let mut unique = |key, kind, field, problem| -> AppResult<()> {
        out.ops.push(TxOp::put(item(key, kind, &claim)?, Condition::NotExists));
        out.claims.push(Some((field, problem)));
        Ok(())
    };
    if let Some(number) = &employee.employee_number {
        unique(
            keys::employee_number(org, number),
            user::EMPLOYEE_NUMBER_KIND,
            "employee_number",
            "employee-number-taken",
        )?;
    }
    if let Some(email) = &employee.email {
        unique(keys::login(org, email.as_str()), user::LOGIN_KIND, "email", "email-taken")?;
    }
    if let Some(username) = &employee.username {
        unique(keys::login(org, username.as_str()), user::LOGIN_KIND, "username", "username-taken")?;
    }
    Ok(out)
}

impl UserOps {
    /// Adds an operation whose failure is not a uniqueness conflict.
    pub(crate) fn push(&mut self, op: TxOp) {
        self.ops.push(op);
        self.claims.push(None);
    }
}

/// Runs `before` and the user's items in one transaction, naming the taken fields on conflict,
/// and answers `answer` (kept with the transaction under an `Idempotency-Key`).
pub(crate) async fn commit(
    state: &AppState,
    user: UserOps,
    before: Vec<(TxOp, AppError)>,
    answer: impl IntoResponse,
) -> AppResult<Response> {
    let offset = before.len();
    let (mut ops, mut reasons): (Vec<TxOp>, Vec<AppError>) = before.into_iter().unzip();
    ops.extend(user.ops);
    match idempotency::transact(state.store.as_ref(), ops, answer).await {
        Ok(response) => Ok(response),
        Err(StoreError::TransactionCanceled { failed }) => {
            if let Some(first) = failed.iter().find(|i| **i < offset) {
                return Err(reasons.swap_remove(*first));
            }
            let taken: Vec<_> = failed.iter().filter_map(|i| user.claims.get(i - offset).copied().flatten()).collect();
            let fields = taken.iter().map(|(f, _)| f.replace('_', " ")).collect::<Vec<_>>().join(" and ");
            match taken.first() {
                Some((_, kind)) => {
                    Err(AppError::conflict(kind, format!("{fields} already in use in this organisation")))
                }
                None => Err(AppError::Store(StoreError::TransactionCanceled { failed })),
            }
        }
        Err(e) => Err(e.into()),
    }
}
