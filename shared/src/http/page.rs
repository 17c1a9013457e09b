//! Cursor pagination: `limit` (default 50, max 200) and an opaque `cursor`.

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
