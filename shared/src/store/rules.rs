//! Rules of the store port that both adapters enforce identically: DynamoDB's key limits,
//! its refusal of reversed ranges, and what a cursor may continue.

use super::{Cursor, Index, Item, Key, Query, SkRange, StoreError, StoreResult, TxOp};

/// DynamoDB's key size limits (bytes), enforced on SQLite too so that data written locally
/// would also fit on AWS.
const MAX_PK_BYTES: usize = 2048;
const MAX_SK_BYTES: usize = 1024;
/// DynamoDB's item size limit, enforced on SQLite too so that what is written locally would be
/// written on AWS.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

pub(crate) enum Position {
    Table { sk: String },
    Index { isk: String, pk: String, sk: String },
}

/// A cursor is only valid for the partition (and, being the key of a returned item, the
/// sort-key range) of the query that produced it.
pub(crate) fn cursor_position(query: &Query, cursor: &Cursor) -> StoreResult<Position> {
    let position = match (query.index, &cursor.ipk, &cursor.isk) {
        (Index::Table, None, None) if cursor.pk == query.pk => Position::Table { sk: cursor.sk.clone() },
        (Index::Gsi1 | Index::Gsi2, Some(ipk), Some(isk)) if *ipk == query.pk => {
            Position::Index { isk: isk.clone(), pk: cursor.pk.clone(), sk: cursor.sk.clone() }
        }
        _ => return Err(StoreError::InvalidCursor),
    };
    let sort_key = match &position {
        Position::Table { sk } => sk,
        Position::Index { isk, .. } => isk,
    };
    if cursor.pk.is_empty() || cursor.sk.is_empty() || !in_range(&query.range, sort_key) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(position)
}

/// DynamoDB refuses a `BETWEEN` whose bounds are out of order.
pub(crate) fn check_range(range: &SkRange) -> StoreResult<()> {
    match range {
        SkRange::Between(from, to) if from > to => {
            Err(StoreError::Invalid("a sort-key range must not end before it starts".into()))
        }
        _ => Ok(()),
    }
}

fn in_range(range: &SkRange, sort_key: &str) -> bool {
    match range {
        SkRange::All => true,
        SkRange::Prefix(prefix) => sort_key.starts_with(prefix.as_str()),
        SkRange::Between(from, to) => from.as_str() <= sort_key && sort_key <= to.as_str(),
    }
}

pub(crate) fn cursor_at(item: &Item, index: Index) -> Cursor {
    let index_key = match index {
        Index::Table => None,
        Index::Gsi1 => item.gsi1.as_ref(),
        Index::Gsi2 => item.gsi2.as_ref(),
    };
    Cursor {
        pk: item.key.pk.clone(),
        sk: item.key.sk.clone(),
        ipk: index_key.map(|k| k.pk.clone()),
        isk: index_key.map(|k| k.sk.clone()),
    }
}

/// DynamoDB refuses empty and oversized key attributes; refusing them here too keeps data
/// portable between the stores.
pub(crate) fn check_key(key: &Key) -> StoreResult<()> {
    check_key_parts("key", &key.pk, &key.sk)
}

fn check_key_parts(what: &str, pk: &str, sk: &str) -> StoreResult<()> {
    if pk.is_empty() || sk.is_empty() {
        return Err(StoreError::Invalid(format!("{what} attributes must not be empty")));
    }
    if pk.len() > MAX_PK_BYTES || sk.len() > MAX_SK_BYTES {
        return Err(StoreError::Invalid(format!(
            "{what} too long (partition key at most {MAX_PK_BYTES} bytes, sort key {MAX_SK_BYTES})"
        )));
    }
    Ok(())
}

pub(crate) fn check_op(op: &TxOp) -> StoreResult<()> {
    match op {
        TxOp::Put { item, .. } => check_item(item),
        TxOp::Delete { key, .. } | TxOp::Check { key, .. } => check_key(key),
    }
}

pub(crate) fn check_item(item: &Item) -> StoreResult<()> {
    check_key(&item.key)?;
    for (what, index_key) in [("GSI1 key", &item.gsi1), ("GSI2 key", &item.gsi2)] {
        if let Some(k) = index_key {
            check_key_parts(what, &k.pk, &k.sk)?;
        }
    }
    let bytes = item_size(item);
    if bytes > MAX_ITEM_BYTES {
        return Err(StoreError::TooLarge { bytes });
    }
    Ok(())
}

/// Decimal digits of `n`.
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// An item's size as DynamoDB counts it (the store's attribute names and the UTF-8 lengths of
/// their values, `data` as the map it is stored as), numbers counted as their decimal text:
/// a close upper bound.
pub(crate) fn item_size(item: &Item) -> usize {
    fn value(v: &serde_json::Value) -> usize {
        use serde_json::Value;
        match v {
            Value::String(s) => s.len(),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => digits(u),
                (None, Some(i)) => 1 + digits(i.unsigned_abs()),
                // A float: its shortest decimal text, rare in our records.
                _ => n.to_string().len(),
            },
            Value::Bool(_) | Value::Null => 1,
            Value::Array(l) => 3 + l.iter().map(|v| 1 + value(v)).sum::<usize>(),
            Value::Object(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>(),
        }
    }
    let index =
        |name_len: usize, k: &Option<super::IndexKey>| k.as_ref().map_or(0, |k| 2 * name_len + k.pk.len() + k.sk.len());
    "PKSK".len()
        + item.key.pk.len()
        + item.key.sk.len()
        + index("GSI1PK".len(), &item.gsi1)
        + index("GSI2PK".len(), &item.gsi2)
        + item.expires_at.map_or(0, |t| "expires_at".len() + usize::from(t < 0) + digits(t.unsigned_abs()))
        + "version".len()
        + digits(item.version)
        + "kind".len()
        + item.kind.len()
        + "data".len()
        + match item.data.value() {
            Ok(data) => value(&data),
            // Text read back that is not JSON: its own length stands for it.
            Err(_) => item.data.text().map_or(0, |text| text.len()),
        }
}
