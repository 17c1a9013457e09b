//! Cursor pagination: `limit` (default 50, max 200) and an opaque `cursor`.

use crate::domain::schema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;
use crate::store::{Cursor, Page, StoreError};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    #[param(value_type = Option<schema::Cursor>)]
    pub cursor: Option<String>,
}

impl PageParams {
    pub const DEFAULT: u32 = 50;
    pub const MAX: u32 = 200;

    pub fn limit(&self) -> Result<u32, AppError> {
        match self.limit {
            None => Ok(Self::DEFAULT),
            Some(n) if (1..=Self::MAX).contains(&n) => Ok(n),
            Some(_) => Err(AppError::invalid("limit", "must be between 1 and 200")),
        }
    }

    pub fn cursor(&self) -> Result<Option<Cursor>, AppError> {
        self.cursor
            .as_deref()
            .map(Cursor::decode)
            .transpose()
            .map_err(|_: StoreError| AppError::Store(StoreError::InvalidCursor))
    }
}

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    pub fn from_page(page: &Page, items: Vec<T>) -> Self {
        Self { items, next_cursor: page.cursor.as_ref().map(Cursor::encode) }
    }
}

/// Pages a listing built in memory from several reads (keys sorted and unique): the items after
/// the cursor's key, at most `limit` of them, and the cursor of the next page. Its cursors look
/// like the store's and are refused by store listings (and the other way round).
pub fn page_in_memory<T>(sorted: Vec<(String, T)>, page: &PageParams) -> Result<Paged<T>, AppError> {
    const MARK: &str = "IN-MEMORY";
    let limit = page.limit()? as usize;
    let after = match page.cursor()? {
        Some(c) if c.pk == MARK => Some(c.sk),
        Some(_) => return Err(AppError::Store(StoreError::InvalidCursor)),
        None => None,
    };
    let mut rest = sorted.into_iter().filter(|(k, _)| after.as_ref().is_none_or(|a| k > a)).peekable();
    let mut items = Vec::new();
    let mut last = None;
    while items.len() < limit {
        let Some((key, item)) = rest.next() else { break };
        last = Some(key);
        items.push(item);
    }
    let next_cursor = match (rest.peek(), last) {
        (Some(_), Some(sk)) => Some(Cursor { pk: MARK.into(), sk, ipk: None, isk: None }.encode()),
        _ => None,
    };
    Ok(Paged { items, next_cursor })
}
