//! Reads on the pooled read connections: one item, and one page of a query.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row};

use super::{COLUMNS, VISIBLE, db_err};
use crate::store::rules::{Position, check_range, cursor_at, cursor_position};
use crate::store::{Cursor, Data, Index, IndexKey, Item, Key, MAX_PAGE, Page, Query, SkRange, StoreError, StoreResult};

/// One item by its key, if visible at `:now`: built once, not on every read.
pub(super) static READ_ITEM: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} FROM items WHERE pk = :pk AND sk = :sk AND {VISIBLE}"));

pub(super) fn read_item(conn: &Connection, key: &Key, now: i64) -> StoreResult<Option<Item>> {
    let raw = conn
        .prepare_cached(&READ_ITEM)
        .and_then(|mut stmt| {
            stmt.query_row(rusqlite::named_params! {":pk": key.pk, ":sk": key.sk, ":now": now}, RawItem::from_row)
                .optional()
        })
        .map_err(db_err)?;
    raw.map(RawItem::decode).transpose()
}

/// Runs `f` in one read transaction: every statement in it sees the same snapshot, and SQLite's
/// file locks (five `fcntl` calls) are taken and released once, not once per statement. The
/// transaction statements are cached like any other.
pub(super) fn in_snapshot<T>(conn: &Connection, f: impl FnOnce() -> StoreResult<T>) -> StoreResult<T> {
    let run = |sql: &str| conn.prepare_cached(sql).and_then(|mut stmt| stmt.execute([])).map_err(db_err);
    run("BEGIN")?;
    match f() {
        Ok(value) => run("COMMIT").map(|_| value),
        Err(e) => {
            // A connection the rollback failed on is not pooled again (`Readers::give_back`).
            let _ = run("ROLLBACK");
            Err(e)
        }
    }
}

/// A row as stored, before its JSON and version are checked.
struct RawItem {
    pk: String,
    sk: String,
    gsi1: (Option<String>, Option<String>),
    gsi2: (Option<String>, Option<String>),
    expires_at: Option<i64>,
    version: i64,
    kind: String,
    data: String,
}

impl RawItem {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            pk: row.get(0)?,
            sk: row.get(1)?,
            gsi1: (row.get(2)?, row.get(3)?),
            gsi2: (row.get(4)?, row.get(5)?),
            expires_at: row.get(6)?,
            version: row.get(7)?,
            kind: row.get(8)?,
            data: row.get(9)?,
        })
    }

    fn decode(self) -> StoreResult<Item> {
        let key = Key::new(self.pk, self.sk);
        let version = decode_version(&key, self.version)?;
        Ok(Item {
            key,
            kind: self.kind,
            gsi1: join_index_key(self.gsi1),
            gsi2: join_index_key(self.gsi2),
            expires_at: self.expires_at,
            version,
            // Decoded by the record that asks for it (`Item::parse`), not here.
            data: Data::json_text(self.data),
        })
    }
}

fn join_index_key(parts: (Option<String>, Option<String>)) -> Option<IndexKey> {
    match parts {
        (Some(pk), Some(sk)) => Some(IndexKey { pk, sk }),
        _ => None,
    }
}

pub(super) fn decode_version(key: &Key, version: i64) -> StoreResult<u64> {
    u64::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("item {}/{}: negative version {version}", key.pk, key.sk)))
}

// ---- queries ----

/// A query turned into SQL and its parameters, checked before it reaches the blocking pool.
pub(super) struct QueryPlan {
    pub(super) sql: String,
    params: Vec<(&'static str, SqlValue)>,
    index: Index,
    limit: usize,
}

impl QueryPlan {
    pub(super) fn new(query: &Query) -> StoreResult<Self> {
        let (pk_col, sk_col) = columns(query.index);
        let order = if query.descending { "DESC" } else { "ASC" };
        let limit = query.limit.clamp(1, MAX_PAGE);
        check_range(&query.range)?;
        let mut sql = format!("SELECT {COLUMNS} FROM items WHERE {pk_col} = :pk AND {VISIBLE}");
        let mut params: Vec<(&'static str, SqlValue)> = vec![(":pk", SqlValue::Text(query.pk.clone()))];
        push_range(&mut sql, &mut params, sk_col, &query.range);
        if let Some(cursor) = &query.cursor {
            push_cursor(&mut sql, &mut params, query, cursor)?;
        }
        // Ties on an index sort key are broken by the table key, in the same direction, so
        // that a cursor designates one position.
        if query.index == Index::Table {
            sql.push_str(&format!(" ORDER BY sk {order}"));
        } else {
            sql.push_str(&format!(" ORDER BY {sk_col} {order}, pk {order}, sk {order}"));
        }
        // One row more than the page tells whether another page follows.
        sql.push_str(" LIMIT :limit");
        params.push((":limit", SqlValue::Integer(i64::from(limit) + 1)));
        Ok(Self { sql, params, index: query.index, limit: limit as usize })
    }

    pub(super) fn run(self, conn: &Connection, now: i64) -> StoreResult<Page> {
        let mut params: Vec<(&str, &dyn rusqlite::ToSql)> =
            self.params.iter().map(|(name, value)| (*name, value as &dyn rusqlite::ToSql)).collect();
        params.push((":now", &now));
        let raws = conn
            .prepare_cached(&self.sql)
            .and_then(|mut stmt| {
                stmt.query_map(params.as_slice(), RawItem::from_row)?.collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db_err)?;
        let mut items = raws.into_iter().map(RawItem::decode).collect::<StoreResult<Vec<_>>>()?;
        let cursor = if items.len() > self.limit {
            items.truncate(self.limit);
            items.last().map(|item| cursor_at(item, self.index))
        } else {
            None
        };
        Ok(Page { items, cursor })
    }
}

fn columns(index: Index) -> (&'static str, &'static str) {
    match index {
        Index::Table => ("pk", "sk"),
        Index::Gsi1 => ("gsi1pk", "gsi1sk"),
        Index::Gsi2 => ("gsi2pk", "gsi2sk"),
    }
}

fn push_range(sql: &mut String, params: &mut Vec<(&'static str, SqlValue)>, sk_col: &str, range: &SkRange) {
    match range {
        SkRange::All => {}
        SkRange::Prefix(prefix) if prefix.is_empty() => {}
        SkRange::Prefix(prefix) => {
            sql.push_str(&format!(" AND {sk_col} >= :lo"));
            params.push((":lo", SqlValue::Text(prefix.clone())));
            // A prefix made only of U+10FFFF has no upper bound: everything from it on matches.
            if let Some(upper) = prefix_upper_bound(prefix) {
                sql.push_str(&format!(" AND {sk_col} < :hi"));
                params.push((":hi", SqlValue::Text(upper)));
            }
        }
        SkRange::Between(from, to) => {
            sql.push_str(&format!(" AND {sk_col} BETWEEN :lo AND :hi"));
            params.push((":lo", SqlValue::Text(from.clone())));
            params.push((":hi", SqlValue::Text(to.clone())));
        }
    }
}

/// The smallest string greater than every string that starts with `prefix`: the prefix with
/// its last character replaced by the next code point. UTF-8 byte order is code-point order,
/// so this is exact under SQLite's memcmp comparison, unlike appending a high character.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = next_char(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn next_char(c: char) -> Option<char> {
    let next = u32::from(c) + 1;
    // The surrogate block holds no characters: U+D7FF is followed by U+E000.
    let next = if next == 0xD800 { 0xE000 } else { next };
    char::from_u32(next)
}

/// Continues after the cursor's position, in the query's direction.
fn push_cursor(
    sql: &mut String,
    params: &mut Vec<(&'static str, SqlValue)>,
    query: &Query,
    cursor: &Cursor,
) -> StoreResult<()> {
    let position = cursor_position(query, cursor)?;
    let op = if query.descending { "<" } else { ">" };
    match position {
        Position::Table { sk } => {
            sql.push_str(&format!(" AND sk {op} :csk"));
            params.push((":csk", SqlValue::Text(sk)));
        }
        Position::Index { isk, pk, sk } => {
            let (_, sk_col) = columns(query.index);
            sql.push_str(&format!(" AND ({sk_col}, pk, sk) {op} (:cisk, :cpk, :csk)"));
            params.push((":cisk", SqlValue::Text(isk)));
            params.push((":cpk", SqlValue::Text(pk)));
            params.push((":csk", SqlValue::Text(sk)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_upper_bound_is_the_next_string_after_the_prefix() {
        assert_eq!(prefix_upper_bound("T#a").as_deref(), Some("T#b"));
        assert_eq!(prefix_upper_bound("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    }
}
