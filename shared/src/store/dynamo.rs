//! The store port on one DynamoDB table (single-table design).
//!
//! Item layout: `PK`, `SK`, `GSI1PK`/`GSI1SK` and `GSI2PK`/`GSI2SK` (absent when the item is
//! not in that index), `expires_at` (N, epoch seconds, the table's TTL attribute), `version`
//! (N), `kind` (S) and `data` (M, the entity's JSON converted by serde_dynamo).
//!
//! DynamoDB deletes expired items lazily (up to days later), so every read filters them out
//! and every condition treats them as absent, with "now" taken from the injected clock.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, ConditionCheck, ConsumedCapacity, Delete,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    ReturnConsumedCapacity, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus, TransactWriteItem,
};

use super::rules::{Position, check_item, check_key, check_op, check_range, cursor_at, cursor_position, item_size};
use super::{
    Condition, Cursor, Data, Index, IndexKey, Item, Key, MAX_PAGE, Page, Query, SkRange, Store, StoreError,
    StoreResult, TxOp, validate_batch, validate_transaction,
};
use crate::clock::Clock;

const PK: &str = "PK";
const SK: &str = "SK";
const GSI1PK: &str = "GSI1PK";
const GSI1SK: &str = "GSI1SK";
const GSI2PK: &str = "GSI2PK";
const GSI2SK: &str = "GSI2SK";
const EXPIRES_AT: &str = "expires_at";
const VERSION: &str = "version";
const KIND: &str = "kind";
const DATA: &str = "data";

const GSI1: &str = "GSI1";
const GSI2: &str = "GSI2";

/// Retries of a batch get's unprocessed keys before giving up (throttling that outlasts about
/// four seconds of backoff is an outage for an interactive request).
const BATCH_GET_RETRIES: u32 = 8;
/// How long `create_table` waits for a new table to become active.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

type AttributeMap = HashMap<String, AttributeValue>;

pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self { client, table: table.into(), clock }
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }
}

/// A client from an AWS configuration already loaded (and shared with other clients).
pub fn client(config: &aws_config::SdkConfig) -> Client {
    Client::new(config)
}

/// A client configured from the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials
/// chain). Build it once at start-up and share it.
pub async fn client_from_env() -> Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    Client::new(&config)
}

/// Creates the table, its two GSIs, its stream and its TTL attribute. Idempotent: an existing
/// table is left as is, apart from making sure TTL is on.
pub async fn create_table(client: &Client, table: &str) -> anyhow::Result<()> {
    let request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK].into_iter().map(string_attribute).collect::<Result<_, _>>()?,
        ))
        .set_key_schema(Some(key_schema(PK, SK)?))
        .global_secondary_indexes(index(GSI1, GSI1PK, GSI1SK)?)
        .global_secondary_indexes(index(GSI2, GSI2PK, GSI2SK)?)
        .stream_specification(
            StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewImage).build()?,
        );
    match request.send().await.map_err(SdkError::into_service_error) {
        Ok(_) | Err(CreateTableError::ResourceInUseException(_)) => {}
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("cannot create the table {table}")));
        }
    }
    wait_until_active(client, table).await?;
    ensure_ttl(client, table).await
}

fn string_attribute(name: &str) -> anyhow::Result<AttributeDefinition> {
    Ok(AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()?)
}

fn key_schema(hash: &str, range: &str) -> anyhow::Result<Vec<KeySchemaElement>> {
    Ok(vec![
        KeySchemaElement::builder().attribute_name(hash).key_type(KeyType::Hash).build()?,
        KeySchemaElement::builder().attribute_name(range).key_type(KeyType::Range).build()?,
    ])
}

fn index(name: &str, hash: &str, range: &str) -> anyhow::Result<GlobalSecondaryIndex> {
    Ok(GlobalSecondaryIndex::builder()
        .index_name(name)
        .set_key_schema(Some(key_schema(hash, range)?))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()?)
}

/// TTL can only be set on an active table.
async fn wait_until_active(client: &Client, table: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
    let mut delay = Duration::from_millis(50);
    loop {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .with_context(|| format!("cannot describe the table {table}"))?;
        let status = described.table.and_then(|t| t.table_status);
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("the table {table} is not active after {TABLE_ACTIVE_TIMEOUT:?} (status {status:?})");
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Enabling TTL twice is a ValidationException on DynamoDB, so look first.
async fn ensure_ttl(client: &Client, table: &str) -> anyhow::Result<()> {
    let described = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .with_context(|| format!("cannot read the TTL setting of {table}"))?;
    if let Some(ttl) = described.time_to_live_description {
        let on = matches!(ttl.time_to_live_status, Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
        if on && ttl.attribute_name.as_deref() == Some(EXPIRES_AT) {
            return Ok(());
        }
    }
    let spec = TimeToLiveSpecification::builder().enabled(true).attribute_name(EXPIRES_AT).build()?;
    match client.update_time_to_live().table_name(table).time_to_live_specification(spec).send().await {
        Ok(_) => Ok(()),
        // Another process enabled it between our look and our update.
        Err(e) if e.message().is_some_and(|m| m.contains("already enabled")) => Ok(()),
        Err(e) => Err(anyhow::Error::new(e.into_service_error()).context(format!("cannot enable TTL on {table}"))),
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        check_key(key)?;
        let now = self.now();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| failure("GetItem", e.into_service_error()))?;
        spent("GetItem", output.consumed_capacity());
        match output.item {
            Some(attributes) => Ok(Some(decode_item(attributes)?).filter(|item| visible(item, now))),
            None => Ok(None),
        }
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        validate_batch(keys)?;
        keys.iter().try_for_each(check_key)?;
        // DynamoDB rejects a batch that names a key twice, and one that names none.
        let keys: BTreeSet<&Key> = keys.iter().collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let mut pending: Vec<AttributeMap> = keys.into_iter().map(key_attributes).collect();
        let mut found = Vec::new();
        let mut attempt = 0;
        while !pending.is_empty() {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let (items, unprocessed) = self.batch_get_once(pending).await?;
            for attributes in items {
                found.push(decode_item(attributes)?);
            }
            pending = unprocessed;
            attempt += 1;
            if attempt > BATCH_GET_RETRIES && !pending.is_empty() {
                return Err(StoreError::Unavailable(anyhow!(
                    "BatchGetItem left {} keys unprocessed after {BATCH_GET_RETRIES} retries",
                    pending.len()
                )));
            }
        }
        found.retain(|item| visible(item, now));
        Ok(found)
    }

    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()> {
        check_item(&item)?;
        let expression = condition_expression(condition, self.now());
        let attributes = encode_item(&item)?;
        let (text, names, values) = expression.map(Expression::into_parts).unwrap_or_default();
        // A write that met a transaction on the same item did nothing: it runs again.
        let output = retrying_conflicts(|| async {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(attributes.clone()))
                .set_condition_expression(text.clone())
                .set_expression_attribute_names(names.clone())
                .set_expression_attribute_values(values.clone())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(_) => StoreError::ConditionFailed,
                    PutItemError::TransactionConflictException(_) => StoreError::Conflict,
                    other => failure("PutItem", other),
                })
        })
        .await?;
        spent("PutItem", output.consumed_capacity());
        wrote(&[(&item.key, Some(&item))], false);
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()> {
        check_key(key)?;
        let (text, names, values) =
            condition_expression(condition, self.now()).map(Expression::into_parts).unwrap_or_default();
        let output = retrying_conflicts(|| async {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key_attributes(key)))
                .set_condition_expression(text.clone())
                .set_expression_attribute_names(names.clone())
                .set_expression_attribute_values(values.clone())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| match e.into_service_error() {
                    DeleteItemError::ConditionalCheckFailedException(_) => StoreError::ConditionFailed,
                    DeleteItemError::TransactionConflictException(_) => StoreError::Conflict,
                    other => failure("DeleteItem", other),
                })
        })
        .await?;
        spent("DeleteItem", output.consumed_capacity());
        wrote(&[(key, None)], false);
        Ok(())
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        validate_transaction(&ops)?;
        ops.iter().try_for_each(check_op)?;
        let now = self.now();
        let items = ops.iter().map(|op| self.transact_item(op, now)).collect::<StoreResult<Vec<_>>>()?;
        // A transaction that met another on the same item (`TransactionConflict`) did nothing:
        // it runs again, so that it ends as SQLite's serialised writes do, applied or refused by
        // its conditions, rather than as a conflict the caller did not cause.
        let output = retrying_conflicts(|| async {
            self.client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| match e.into_service_error() {
                    TransactWriteItemsError::TransactionCanceledException(canceled) => {
                        cancellation_error(canceled.cancellation_reasons(), canceled.message())
                    }
                    other => failure("TransactWriteItems", other),
                })
        })
        .await?;
        spent("TransactWriteItems", output.consumed_capacity().iter());
        let written: Vec<(&Key, Option<&Item>)> = ops
            .iter()
            .map(|op| match op {
                TxOp::Put { item, .. } => (&item.key, Some(item)),
                other => (other.key(), None),
            })
            .collect();
        wrote(&written, true);
        Ok(())
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        check_range(&query.range)?;
        let start = query.cursor.as_ref().map(|c| exclusive_start_key(query, c)).transpose()?;
        let Some(expression) = key_condition(query) else {
            return Ok(Page::default());
        };
        let now = self.now();
        let limit = query.limit.clamp(1, MAX_PAGE);
        // The key condition and the filter share one set of names and values.
        let (text, names, values) = expression.name("#exp", EXPIRES_AT).value(":now", number(now)).into_parts();
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index_name(query.index).map(str::to_owned))
            // GSIs only support eventually consistent reads.
            .consistent_read(query.index == Index::Table)
            .set_key_condition_expression(text)
            .filter_expression("attribute_not_exists(#exp) OR #exp > :now")
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .scan_index_forward(!query.descending)
            // One item more than the page tells whether another page follows, so a listing
            // that ends on a page boundary does not cost an extra, empty page.
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| failure("Query", e.into_service_error()))?;
        spent("Query", output.consumed_capacity());
        page(output.items.unwrap_or_default(), output.last_evaluated_key, query.index, limit, now)
    }
}

impl DynamoStore {
    /// One BatchGetItem call: the items it returned and the keys it left unprocessed.
    async fn batch_get_once(&self, keys: Vec<AttributeMap>) -> StoreResult<(Vec<AttributeMap>, Vec<AttributeMap>)> {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Invalid(format!("batch get request: {e}")))?;
        let output = self
            .client
            .batch_get_item()
            .request_items(&self.table, request)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| failure("BatchGetItem", e.into_service_error()))?;
        spent("BatchGetItem", output.consumed_capacity().iter());
        let items = output.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default();
        let unprocessed = output.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys);
        Ok((items, unprocessed.unwrap_or_default()))
    }

    fn transact_item(&self, op: &TxOp, now: i64) -> StoreResult<TransactWriteItem> {
        let item = match op {
            TxOp::Put { item, condition } => {
                let (text, names, values) =
                    condition_expression(*condition, now).map(Expression::into_parts).unwrap_or_default();
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(encode_item(item)?))
                    .set_condition_expression(text)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().put(put)
            }
            TxOp::Delete { key, condition } => {
                let (text, names, values) =
                    condition_expression(*condition, now).map(Expression::into_parts).unwrap_or_default();
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(key)))
                    .set_condition_expression(text)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().delete(delete)
            }
            TxOp::Check { key, condition } => {
                // A condition check must carry an expression, even one that always holds.
                let (text, names, values) =
                    condition_expression(*condition, now).unwrap_or_else(Expression::always).into_parts();
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(key)))
                    .set_condition_expression(text)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().condition_check(check)
            }
        };
        Ok(item.build())
    }
}

// ---- conditions ----

/// An expression with the attribute names and values it uses (DynamoDB rejects unused ones).
#[derive(Default)]
struct Expression {
    text: String,
    names: HashMap<String, String>,
    values: AttributeMap,
}

type ExpressionParts = (Option<String>, Option<HashMap<String, String>>, Option<AttributeMap>);

impl Expression {
    fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::default() }
    }

    fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.insert(placeholder.into(), attribute.into());
        self
    }

    fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.into(), value);
        self
    }

    fn always() -> Self {
        Self::new("attribute_exists(#pk) OR attribute_not_exists(#pk)").name("#pk", PK)
    }

    /// The request's fields; empty maps become `None` because DynamoDB rejects empty ones.
    fn into_parts(self) -> ExpressionParts {
        let names = (!self.names.is_empty()).then_some(self.names);
        let values = (!self.values.is_empty()).then_some(self.values);
        (Some(self.text), names, values)
    }
}

/// The condition as DynamoDB evaluates it. An expired item is still stored until the TTL
/// sweeper removes it, so "absent" means "missing or expired" and "present" the opposite.
fn condition_expression(condition: Condition, now: i64) -> Option<Expression> {
    const LIVE: &str = "(attribute_not_exists(#exp) OR #exp > :now)";
    let expression = match condition {
        Condition::None => return None,
        Condition::NotExists => Expression::new("attribute_not_exists(#pk) OR #exp <= :now").name("#pk", PK),
        Condition::Exists => Expression::new(format!("attribute_exists(#pk) AND {LIVE}")).name("#pk", PK),
        Condition::VersionIs(version) => {
            Expression::new(format!("#ver = :ver AND {LIVE}")).name("#ver", VERSION).value(":ver", number(version))
        }
    };
    Some(expression.name("#exp", EXPIRES_AT).value(":now", number(now)))
}

/// Runs of a write that met a transaction on the same item, after the first.
const CONFLICT_RETRIES: u32 = 6;

/// Runs `send` again while it answers [`StoreError::Conflict`], at most [`CONFLICT_RETRIES`]
/// more times, waiting [`conflict_backoff`] between runs.
async fn retrying_conflicts<T, F, Fut>(mut send: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut attempt = 0;
    loop {
        match send().await {
            Err(StoreError::Conflict) if attempt < CONFLICT_RETRIES => {
                attempt += 1;
                tokio::time::sleep(conflict_backoff(attempt)).await;
            }
            other => return other,
        }
    }
}

/// [`backoff`], plus up to as much again at random so that the writes that met do not meet
/// again.
fn conflict_backoff(attempt: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let base = backoff(attempt);
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    base + base.mul_f64((random % 1000) as f64 / 1000.0)
}

/// A cancelled transaction: positions whose condition failed, or a conflict to retry.
fn cancellation_error(reasons: &[CancellationReason], message: Option<&str>) -> StoreError {
    let failed: Vec<usize> = reasons
        .iter()
        .enumerate()
        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
        .map(|(position, _)| position)
        .collect();
    if !failed.is_empty() {
        return StoreError::TransactionCanceled { failed };
    }
    if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
        return StoreError::Conflict;
    }
    // Only the codes: a reason's message may quote item data.
    let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("?")).collect();
    StoreError::Unavailable(anyhow!(
        "TransactWriteItems cancelled ({}); reasons: {codes:?}",
        message.unwrap_or("no message")
    ))
}

// ---- queries ----

/// The key condition of a query, or `None` when no item can match: DynamoDB keys are never
/// empty, and it rejects an empty string as a key condition value.
fn key_condition(query: &Query) -> Option<Expression> {
    if query.pk.is_empty() {
        return None;
    }
    let (pk_attr, sk_attr) = key_attributes_of(query.index);
    let on_partition =
        |range: &str| Expression::new(format!("#pk = :pk{range}")).name("#pk", pk_attr).value(":pk", string(&query.pk));
    let expression = match &query.range {
        SkRange::All => on_partition(""),
        SkRange::Prefix(prefix) if prefix.is_empty() => on_partition(""),
        SkRange::Prefix(prefix) => {
            on_partition(" AND begins_with(#sk, :lo)").name("#sk", sk_attr).value(":lo", string(prefix))
        }
        SkRange::Between(_, to) if to.is_empty() => return None,
        SkRange::Between(from, to) if from.is_empty() => {
            on_partition(" AND #sk <= :hi").name("#sk", sk_attr).value(":hi", string(to))
        }
        SkRange::Between(from, to) => on_partition(" AND #sk BETWEEN :lo AND :hi")
            .name("#sk", sk_attr)
            .value(":lo", string(from))
            .value(":hi", string(to)),
    };
    Some(expression)
}

fn key_attributes_of(index: Index) -> (&'static str, &'static str) {
    match index {
        Index::Table => (PK, SK),
        Index::Gsi1 => (GSI1PK, GSI1SK),
        Index::Gsi2 => (GSI2PK, GSI2SK),
    }
}

fn index_name(index: Index) -> Option<&'static str> {
    match index {
        Index::Table => None,
        Index::Gsi1 => Some(GSI1),
        Index::Gsi2 => Some(GSI2),
    }
}

/// Where to resume: the table key, plus the index key on a GSI, of the last item returned.
fn exclusive_start_key(query: &Query, cursor: &Cursor) -> StoreResult<AttributeMap> {
    let mut start = AttributeMap::new();
    match cursor_position(query, cursor)? {
        Position::Table { sk } => {
            start.insert(PK.into(), string(&query.pk));
            start.insert(SK.into(), AttributeValue::S(sk));
        }
        Position::Index { isk, pk, sk } => {
            let (ipk_attr, isk_attr) = key_attributes_of(query.index);
            start.insert(PK.into(), AttributeValue::S(pk));
            start.insert(SK.into(), AttributeValue::S(sk));
            start.insert(ipk_attr.into(), string(&query.pk));
            start.insert(isk_attr.into(), AttributeValue::S(isk));
        }
    }
    Ok(start)
}

/// A page of at most `limit` items. With `limit + 1` requested, a full extra item means more
/// follow; otherwise DynamoDB's LastEvaluatedKey (set when the filter dropped expired items
/// from a full read) says where to resume.
fn page(
    raw: Vec<AttributeMap>,
    last_evaluated: Option<AttributeMap>,
    index: Index,
    limit: u32,
    now: i64,
) -> StoreResult<Page> {
    let mut items = raw.into_iter().map(decode_item).collect::<StoreResult<Vec<_>>>()?;
    items.retain(|item| visible(item, now));
    let limit = limit as usize;
    if items.len() > limit {
        items.truncate(limit);
        let cursor = items.last().map(|item| cursor_at(item, index));
        return Ok(Page { items, cursor });
    }
    let cursor = last_evaluated.map(|key| cursor_from_key(key, index)).transpose()?;
    Ok(Page { items, cursor })
}

fn cursor_from_key(mut key: AttributeMap, index: Index) -> StoreResult<Cursor> {
    let pk = take_string(&mut key, PK)?;
    let sk = take_string(&mut key, SK)?;
    let (ipk, isk) = match index {
        Index::Table => (None, None),
        Index::Gsi1 | Index::Gsi2 => {
            let (ipk_attr, isk_attr) = key_attributes_of(index);
            (Some(take_string(&mut key, ipk_attr)?), Some(take_string(&mut key, isk_attr)?))
        }
    };
    Ok(Cursor { pk, sk, ipk, isk })
}

// ---- items ----

/// Logs the capacity units a call consumed (DynamoDB reports them when asked, and DynamoDB
/// Local computes them the same way), at debug level under the `guardpost::capacity` target:
/// `RUST_LOG=info,guardpost::capacity=debug` shows what each request costs. The cost
/// benchmark (docs/COST.md) adds them up.
fn spent<'a>(call: &'static str, consumed: impl IntoIterator<Item = &'a ConsumedCapacity>) {
    if tracing::enabled!(target: "guardpost::capacity", tracing::Level::DEBUG) {
        let units: f64 = consumed.into_iter().filter_map(ConsumedCapacity::capacity_units).sum();
        tracing::debug!(target: "guardpost::capacity", call, units, "capacity consumed");
    }
}

/// Logs, with the capacity, the partitions a write touched: for each item (or key checked or
/// deleted) its partition key, those of its index entries and its size in bytes as DynamoDB
/// counts it (attribute names and values), as `pk|gsi1 pk|gsi2 pk|bytes`, items separated by
/// spaces, and whether they were written in one transaction (which costs twice the units).
/// The hot-partition simulation (docs/COST.md) reads them.
fn wrote(items: &[(&Key, Option<&Item>)], transaction: bool) {
    if !tracing::enabled!(target: "guardpost::capacity", tracing::Level::DEBUG) {
        return;
    }
    let described: Vec<String> = items
        .iter()
        .map(|(key, item)| {
            let index = |k: Option<&IndexKey>| k.map(|k| k.pk.clone()).unwrap_or_default();
            let bytes = item.map_or(key.pk.len() + key.sk.len() + 4, item_size);
            let (gsi1, gsi2) = item.map_or((None, None), |i| (i.gsi1.as_ref(), i.gsi2.as_ref()));
            format!("{}|{}|{}|{bytes}", key.pk, index(gsi1), index(gsi2))
        })
        .collect();
    tracing::debug!(target: "guardpost::capacity", writes = described.join(" "), transaction, "partitions written");
}

fn visible(item: &Item, now: i64) -> bool {
    item.expires_at.is_none_or(|t| t > now)
}

fn key_attributes(key: &Key) -> AttributeMap {
    HashMap::from([(PK.to_owned(), string(&key.pk)), (SK.to_owned(), string(&key.sk))])
}

fn encode_item(item: &Item) -> StoreResult<AttributeMap> {
    let mut attributes = key_attributes(&item.key);
    for ((pk_attr, sk_attr), index_key) in [((GSI1PK, GSI1SK), &item.gsi1), ((GSI2PK, GSI2SK), &item.gsi2)] {
        if let Some(IndexKey { pk, sk }) = index_key {
            attributes.insert(pk_attr.into(), string(pk));
            attributes.insert(sk_attr.into(), string(sk));
        }
    }
    if let Some(expires_at) = item.expires_at {
        attributes.insert(EXPIRES_AT.into(), number(expires_at));
    }
    attributes.insert(VERSION.into(), number(item.version));
    attributes.insert(KIND.into(), string(&item.kind));
    let value = item.data.value().map_err(|e| StoreError::Invalid(format!("item data is not JSON: {e}")))?;
    let data = serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value.as_ref())
        .map_err(|e| StoreError::Invalid(format!("item data cannot be stored: {e}")))?;
    attributes.insert(DATA.into(), data);
    Ok(attributes)
}

fn decode_item(mut attributes: AttributeMap) -> StoreResult<Item> {
    let key = Key::new(take_string(&mut attributes, PK)?, take_string(&mut attributes, SK)?);
    let corrupt = |what: &str| StoreError::Corrupt(format!("item {}/{}: {what}", key.pk, key.sk));
    let gsi1 = take_index_key(&mut attributes, GSI1PK, GSI1SK);
    let gsi2 = take_index_key(&mut attributes, GSI2PK, GSI2SK);
    let expires_at = match attributes.remove(EXPIRES_AT) {
        Some(AttributeValue::N(n)) => Some(n.parse::<i64>().map_err(|_| corrupt("expires_at is not an integer"))?),
        Some(_) => return Err(corrupt("expires_at is not a number")),
        None => None,
    };
    let version = match attributes.remove(VERSION) {
        Some(AttributeValue::N(n)) => n.parse::<u64>().map_err(|_| corrupt("version is not an integer"))?,
        _ => return Err(corrupt("no numeric version")),
    };
    let kind = match attributes.remove(KIND) {
        Some(AttributeValue::S(s)) => s,
        _ => return Err(corrupt("no kind")),
    };
    let data = match attributes.remove(DATA) {
        Some(value) => Data::Value(
            serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value(value)
                .map_err(|e| corrupt(&format!("data cannot be read: {e}")))?,
        ),
        None => return Err(corrupt("no data")),
    };
    Ok(Item { key, kind, gsi1, gsi2, expires_at, version, data })
}

fn take_index_key(attributes: &mut AttributeMap, pk_attr: &str, sk_attr: &str) -> Option<IndexKey> {
    match (attributes.remove(pk_attr), attributes.remove(sk_attr)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some(IndexKey { pk, sk }),
        _ => None,
    }
}

fn take_string(attributes: &mut AttributeMap, name: &str) -> StoreResult<String> {
    match attributes.remove(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        _ => Err(StoreError::Corrupt(format!("an item or key without a string {name}"))),
    }
}

fn string(s: &str) -> AttributeValue {
    AttributeValue::S(s.to_owned())
}

fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

// ---- errors ----

/// Exponential backoff for unprocessed keys: 50 ms doubling, capped at 800 ms.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(25u64 << attempt.min(5))
}

fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid(format!("cannot build the DynamoDB request: {error}"))
}

/// A service error with no store meaning. A ValidationException is a request the store
/// should not have sent (a bug or an oversized item), anything else an outage.
fn failure<E>(operation: &str, error: E) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if error.code() == Some("ValidationException") {
        let message = error.message().unwrap_or("no message");
        return StoreError::Invalid(format!("DynamoDB {operation} refused the request: {message}"));
    }
    StoreError::Unavailable(anyhow::Error::new(error).context(format!("DynamoDB {operation} failed")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// Answers Conflict `conflicts` times, then `last`; counts the runs.
    async fn runs_until(conflicts: u32, last: fn() -> StoreResult<()>) -> (StoreResult<()>, u32) {
        let runs = AtomicU32::new(0);
        let result = retrying_conflicts(|| async {
            let run = runs.fetch_add(1, Ordering::SeqCst);
            if run < conflicts { Err(StoreError::Conflict) } else { last() }
        })
        .await;
        (result, runs.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_transaction_that_met_another_runs_again_until_its_conditions_decide() {
        let (result, runs) = runs_until(2, || Ok(())).await;
        assert!(result.is_ok());
        assert_eq!(runs, 3);
        let (result, runs) = runs_until(1, || Err(StoreError::TransactionCanceled { failed: vec![0] })).await;
        assert!(matches!(result, Err(StoreError::TransactionCanceled { .. })), "the condition's answer");
        assert_eq!(runs, 2);
    }

    #[tokio::test]
    async fn conflicts_end_after_the_last_retry_and_other_failures_are_not_retried() {
        let (result, runs) = runs_until(u32::MAX, || Ok(())).await;
        assert!(matches!(result, Err(StoreError::Conflict)));
        assert_eq!(runs, CONFLICT_RETRIES + 1);
        let (result, runs) = runs_until(0, || Err(StoreError::Unavailable(anyhow!("timeout")))).await;
        assert!(matches!(result, Err(StoreError::Unavailable(_))));
        assert_eq!(runs, 1, "a timeout may have committed: never run again here");
    }
}
