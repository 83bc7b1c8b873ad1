//! The IM tables: `infrastructures`, the rows that belong to one
//! (`infrastructure_owners`, `infrastructure_clouds`, `infrastructure_vms`,
//! deleted with it by their foreign keys) and the owners they link to
//! (`im_owners`), which outlive their infrastructures.
//!
//! An infrastructure is read whole: one statement on PostgreSQL (its row,
//! with its owners, clouds and VMs aggregated as JSON by index probes),
//! four in one read transaction on SQLite. Writes run in the caller's
//! transaction; rows are written one statement each, so that statements
//! keep a fixed text and stay prepared.

mod clouds;

use chrono::{NaiveDateTime, Timelike};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use diesel::upsert::excluded;
use serde::Deserialize;
use strato_domain::StoreError;
use strato_domain::cloud::{IdempotencyKey, NodeId};
use strato_domain::infrastructure::{
    Change, InfId, Infrastructure, Owner, OwnerId, Vm, VmId, VmState,
};

pub(crate) use clouds::{StoredCloud, seal};

use crate::connection::DbConnection;
use crate::error::from_diesel;
use crate::rows::Fixed;
use crate::schema::{
    im_owners, infrastructure_clouds, infrastructure_owners, infrastructure_vms, infrastructures,
};
use crate::secrets::Sealer;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = infrastructures, treat_none_as_default_value = false)]
struct InfRow {
    id: String,
    radl: String,
    next_vm: i64,
    contmsg: String,
    contextualized: Option<bool>,
    deleting: bool,
    created_at: NaiveDateTime,
}

/// An owner's row; PostgreSQL's single statement sends it as a JSON array
/// of its columns in this order.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Deserialize)]
#[diesel(table_name = im_owners, treat_none_as_default_value = false)]
struct OwnerRow {
    id: String,
    username: Option<String>,
    lookup: String,
    secret_hash: String,
}

/// A VM's row but its infrastructure; PostgreSQL's single statement sends
/// it as a JSON array of its columns in this order.
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = infrastructure_vms)]
struct VmRow {
    vm_id: i64,
    cloud_id: String,
    node_id: Option<String>,
    radl: String,
    state: String,
    log: String,
    removed: bool,
    idempotency_key: String,
    snapshots: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = infrastructure_vms, treat_none_as_default_value = false)]
struct NewVmRow<'a> {
    infrastructure_id: &'a str,
    vm_id: i64,
    cloud_id: &'a str,
    node_id: Option<&'a str>,
    radl: &'a str,
    state: &'static str,
    log: &'a str,
    removed: bool,
    idempotency_key: &'a str,
    snapshots: String,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = infrastructure_clouds)]
struct CloudRow {
    cloud_id: String,
    configured: Option<String>,
    sealed: Option<Vec<u8>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = infrastructure_clouds, treat_none_as_default_value = false)]
struct NewCloudRow<'a> {
    infrastructure_id: &'a str,
    position: i64,
    cloud_id: &'a str,
    configured: Option<&'a str>,
    sealed: Option<&'a [u8]>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = infrastructure_owners)]
struct NewOwnerLink<'a> {
    infrastructure_id: &'a str,
    position: i64,
    owner_id: String,
}

/// The scalar fields a change sets; `None` leaves a column as it is.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = infrastructures)]
struct InfChanges<'a> {
    radl: Option<&'a str>,
    next_vm: Option<i64>,
    contmsg: Option<&'a str>,
    contextualized: Option<Option<bool>>,
    deleting: Option<bool>,
}

impl InfChanges<'_> {
    fn is_empty(&self) -> bool {
        self.radl.is_none()
            && self.next_vm.is_none()
            && self.contmsg.is_none()
            && self.contextualized.is_none()
            && self.deleting.is_none()
    }
}

/// An infrastructure's rows, as read.
#[derive(Debug)]
struct Parts {
    inf: InfRow,
    owners: Vec<OwnerRow>,
    clouds: Vec<CloudRow>,
    vms: Vec<VmRow>,
}

/// A time as both databases store it: to the microsecond.
fn stored(time: NaiveDateTime) -> NaiveDateTime {
    time.with_nanosecond(time.nanosecond() / 1_000 * 1_000)
        .unwrap_or(time)
}

fn corrupt(inf: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("infrastructure {inf}: {what}"))
}

impl OwnerRow {
    fn of(owner: &Owner) -> Self {
        Self {
            id: owner.id.to_string(),
            username: owner.username.clone(),
            lookup: owner.lookup.clone(),
            secret_hash: owner.secret_hash.clone(),
        }
    }

    fn into_owner(self) -> Result<Owner, StoreError> {
        Ok(Owner {
            id: OwnerId::parse(&self.id)
                .ok_or_else(|| StoreError::Corrupt(format!("owner {:?}: invalid id", self.id)))?,
            username: self.username,
            lookup: self.lookup,
            secret_hash: self.secret_hash,
        })
    }
}

impl VmRow {
    fn into_vm(self, inf: &str) -> Result<Vm, StoreError> {
        let vm = self.vm_id;
        Ok(Vm {
            id: VmId(u32::try_from(vm).map_err(|_| corrupt(inf, format!("VM id {vm}")))?),
            cloud: self.cloud_id,
            node: self.node_id.map(NodeId::new),
            radl: self.radl,
            state: VmState::parse(&self.state)
                .ok_or_else(|| corrupt(inf, format!("VM {vm}: state {:?}", self.state)))?,
            log: self.log,
            removed: self.removed,
            key: IdempotencyKey::new(self.idempotency_key),
            snapshots: serde_json::from_str(&self.snapshots)
                .map_err(|e| corrupt(inf, format!("VM {vm}: snapshots {e}")))?,
        })
    }
}

impl Parts {
    fn into_infrastructure(self, sealer: Option<&Sealer>) -> Result<Infrastructure, StoreError> {
        let Parts {
            inf,
            owners,
            clouds,
            vms,
        } = self;
        let id = InfId::parse(&inf.id).ok_or_else(|| corrupt(&inf.id, "invalid id"))?;
        Ok(Infrastructure {
            id,
            owners: owners
                .into_iter()
                .map(OwnerRow::into_owner)
                .collect::<Result<_, _>>()?,
            radl: inf.radl,
            vms: vms
                .into_iter()
                .map(|vm| vm.into_vm(&inf.id))
                .collect::<Result<_, _>>()?,
            next_vm: u32::try_from(inf.next_vm)
                .map_err(|_| corrupt(&inf.id, format!("next VM id {}", inf.next_vm)))?,
            contmsg: inf.contmsg,
            contextualized: inf.contextualized,
            deleting: inf.deleting,
            clouds: clouds
                .into_iter()
                .map(|c| {
                    let stored = StoredCloud {
                        cloud_id: c.cloud_id,
                        configured: c.configured,
                        sealed: c.sealed,
                    };
                    clouds::open(id, stored, sealer)
                })
                .collect::<Result<_, _>>()?,
            created: inf.created_at,
        })
    }
}

/// PostgreSQL's statement that reads an infrastructure whole, before and
/// after its id's bind: the row, then its owners, clouds (sealed specs in
/// hexadecimal) and VMs, each aggregated in order into a JSON array of
/// arrays by a probe of its table's primary key.
const FIND_PG: (&str, &str) = (
    "SELECT i.id, i.radl, i.next_vm, i.contmsg, i.contextualized, i.deleting, i.created_at, \
        (SELECT coalesce(json_agg(json_build_array(o.id, o.username, o.lookup, o.secret_hash) \
                                  ORDER BY l.position), '[]')::text \
           FROM infrastructure_owners l JOIN im_owners o ON o.id = l.owner_id \
          WHERE l.infrastructure_id = i.id), \
        (SELECT coalesce(json_agg(json_build_array(c.cloud_id, c.configured, \
                                                   encode(c.sealed, 'hex')) \
                                  ORDER BY c.position), '[]')::text \
           FROM infrastructure_clouds c WHERE c.infrastructure_id = i.id), \
        (SELECT coalesce(json_agg(json_build_array(v.vm_id, v.cloud_id, v.node_id, v.radl, \
                                                   v.state, v.log, v.removed, v.idempotency_key, \
                                                   v.snapshots) \
                                  ORDER BY v.vm_id), '[]')::text \
           FROM infrastructure_vms v WHERE v.infrastructure_id = i.id) \
       FROM infrastructures i WHERE i.id = ",
    "",
);

/// The columns of [`FIND_PG`].
type FindColumns = (
    Text,
    Text,
    BigInt,
    Text,
    Nullable<Bool>,
    Bool,
    Timestamp,
    Text,
    Text,
    Text,
);

/// A row of [`FIND_PG`].
type FindRow = (
    String,
    String,
    i64,
    String,
    Option<bool>,
    bool,
    NaiveDateTime,
    String,
    String,
    String,
);

/// An infrastructure's rows in one round trip (PostgreSQL).
fn find_pg(pg: &mut PgConnection, id: &str) -> Result<Option<Parts>, StoreError> {
    let row: Option<FindRow> = Fixed::<str, Text, FindColumns>::new(FIND_PG, id)
        .get_result(pg)
        .optional()
        .map_err(from_diesel)?;
    let Some((id, radl, next_vm, contmsg, contextualized, deleting, created_at, o, c, v)) = row
    else {
        return Ok(None);
    };
    let json = |what: &str, e: serde_json::Error| corrupt(&id, format!("{what}: {e}"));
    let owners: Vec<OwnerRow> = serde_json::from_str(&o).map_err(|e| json("owners", e))?;
    let vms: Vec<VmRow> = serde_json::from_str(&v).map_err(|e| json("VMs", e))?;
    let clouds: Vec<(String, Option<String>, Option<String>)> =
        serde_json::from_str(&c).map_err(|e| json("clouds", e))?;
    let clouds = clouds
        .into_iter()
        .map(|(cloud_id, configured, sealed)| {
            let sealed = sealed
                .map(hex::decode)
                .transpose()
                .map_err(|e| corrupt(&id, format!("cloud {cloud_id:?}: {e}")))?;
            Ok(CloudRow {
                cloud_id,
                configured,
                sealed,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Some(Parts {
        inf: InfRow {
            id,
            radl,
            next_vm,
            contmsg,
            contextualized,
            deleting,
            created_at,
        },
        owners,
        clouds,
        vms,
    }))
}

/// An infrastructure's rows, read in one transaction so that they agree.
fn find_rows(conn: &mut DbConnection, id: &str) -> Result<Option<Parts>, StoreError> {
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let Some(inf) = infrastructures::table
            .filter(infrastructures::id.eq(id))
            .select(InfRow::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        let owners = infrastructure_owners::table
            .inner_join(im_owners::table)
            .filter(infrastructure_owners::infrastructure_id.eq(id))
            .order(infrastructure_owners::position)
            .select(OwnerRow::as_select())
            .load(conn)?;
        let clouds = infrastructure_clouds::table
            .filter(infrastructure_clouds::infrastructure_id.eq(id))
            .order(infrastructure_clouds::position)
            .select(CloudRow::as_select())
            .load(conn)?;
        let vms = infrastructure_vms::table
            .filter(infrastructure_vms::infrastructure_id.eq(id))
            .order(infrastructure_vms::vm_id)
            .select(VmRow::as_select())
            .load(conn)?;
        Ok(Some(Parts {
            inf,
            owners,
            clouds,
            vms,
        }))
    })
    .map_err(from_diesel)
}

/// An infrastructure with its owners, clouds (described ones opened with
/// `sealer`) and VMs.
///
/// # Errors
/// [`StoreError::Corrupt`] when a row cannot be read back,
/// [`StoreError::Unavailable`] when it has a described cloud and there is no
/// sealer, or the database fails.
pub(crate) fn find(
    conn: &mut DbConnection,
    id: InfId,
    sealer: Option<&Sealer>,
) -> Result<Option<Infrastructure>, StoreError> {
    let key = id.to_string();
    let parts = match conn {
        DbConnection::Pg(pg) => find_pg(pg, &key)?,
        DbConnection::Sqlite(_) => find_rows(conn, &key)?,
    };
    parts.map(|p| p.into_infrastructure(sealer)).transpose()
}

/// Stores a new infrastructure with its owner links, its clouds (`clouds`,
/// as [`seal`] made them) and its VMs. Its owners must be stored.
///
/// # Errors
/// [`StoreError::Concurrent`] when an infrastructure with its id exists,
/// [`StoreError::EntityGone`] when an owner is not stored.
pub(crate) fn insert(
    conn: &mut DbConnection,
    inf: &Infrastructure,
    clouds: &[StoredCloud],
) -> Result<(), StoreError> {
    let row = InfRow {
        id: inf.id.to_string(),
        radl: inf.radl.clone(),
        next_vm: i64::from(inf.next_vm),
        contmsg: inf.contmsg.clone(),
        contextualized: inf.contextualized,
        deleting: inf.deleting,
        created_at: stored(inf.created),
    };
    let insert = diesel::insert_into(infrastructures::table).values(&row);
    // ON CONFLICT is each dialect's own clause.
    let inserted = match conn {
        DbConnection::Pg(pg) => insert
            .on_conflict(infrastructures::id)
            .do_nothing()
            .execute(pg),
        DbConnection::Sqlite(lite) => insert
            .on_conflict(infrastructures::id)
            .do_nothing()
            .execute(lite),
    }
    .map_err(from_diesel)?;
    if inserted == 0 {
        return Err(StoreError::Concurrent);
    }
    link_owners(conn, &row.id, &inf.owners)?;
    insert_clouds(conn, &row.id, clouds)?;
    for vm in &inf.vms {
        upsert_vm(conn, &row.id, vm)?;
    }
    Ok(())
}

/// Applies a change: the scalar fields it sets, its owners and clouds
/// (replacing the lists; `clouds` as [`seal`] made them from the change's),
/// its VMs (inserted or replaced by id). Returns false, writing nothing,
/// when the infrastructure does not exist. The infrastructure's row is
/// locked first (PostgreSQL; SQLite's write transactions hold the whole
/// database), so that changes to one infrastructure follow one another.
///
/// # Errors
/// [`StoreError::EntityGone`] when a new owner is not stored.
pub(crate) fn apply(
    conn: &mut DbConnection,
    id: InfId,
    change: &Change,
    clouds: Option<&[StoredCloud]>,
) -> Result<bool, StoreError> {
    let key = id.to_string();
    let changes = InfChanges {
        radl: change.radl.as_deref(),
        next_vm: change.next_vm.map(i64::from),
        contmsg: change.contmsg.as_deref(),
        contextualized: change.contextualized,
        deleting: change.deleting,
    };
    let this = infrastructures::table.filter(infrastructures::id.eq(&key));
    let exists = if changes.is_empty() {
        let found = this.select(infrastructures::id);
        match conn {
            DbConnection::Pg(pg) => found.for_update().first::<String>(pg).optional(),
            DbConnection::Sqlite(lite) => found.first::<String>(lite).optional(),
        }
        .map_err(from_diesel)?
        .is_some()
    } else {
        diesel::update(this)
            .set(&changes)
            .execute(conn)
            .map_err(from_diesel)?
            > 0
    };
    if !exists {
        return Ok(false);
    }
    if let Some(owners) = &change.owners {
        diesel::delete(
            infrastructure_owners::table.filter(infrastructure_owners::infrastructure_id.eq(&key)),
        )
        .execute(conn)
        .map_err(from_diesel)?;
        link_owners(conn, &key, owners)?;
    }
    if let Some(clouds) = clouds {
        diesel::delete(
            infrastructure_clouds::table.filter(infrastructure_clouds::infrastructure_id.eq(&key)),
        )
        .execute(conn)
        .map_err(from_diesel)?;
        insert_clouds(conn, &key, clouds)?;
    }
    for vm in &change.vms {
        upsert_vm(conn, &key, vm)?;
    }
    Ok(true)
}

/// Links the owners to the infrastructure in their order, each once (the
/// first time it is listed).
fn link_owners(conn: &mut DbConnection, inf: &str, owners: &[Owner]) -> Result<(), StoreError> {
    let mut linked: Vec<OwnerId> = Vec::with_capacity(owners.len());
    for owner in owners {
        if linked.contains(&owner.id) {
            continue;
        }
        let position = i64::try_from(linked.len()).unwrap_or(i64::MAX);
        linked.push(owner.id);
        diesel::insert_into(infrastructure_owners::table)
            .values(&NewOwnerLink {
                infrastructure_id: inf,
                position,
                owner_id: owner.id.to_string(),
            })
            .execute(conn)
            .map_err(from_diesel)?;
    }
    Ok(())
}

/// Stores the clouds in their order.
fn insert_clouds(
    conn: &mut DbConnection,
    inf: &str,
    clouds: &[StoredCloud],
) -> Result<(), StoreError> {
    for (position, cloud) in (0_i64..).zip(clouds) {
        diesel::insert_into(infrastructure_clouds::table)
            .values(&NewCloudRow {
                infrastructure_id: inf,
                position,
                cloud_id: &cloud.cloud_id,
                configured: cloud.configured.as_deref(),
                sealed: cloud.sealed.as_deref(),
            })
            .execute(conn)
            .map_err(from_diesel)?;
    }
    Ok(())
}

/// Stores a VM, or replaces the one with its id.
fn upsert_vm(conn: &mut DbConnection, inf: &str, vm: &Vm) -> Result<(), StoreError> {
    use infrastructure_vms::dsl as v;

    let row = NewVmRow {
        infrastructure_id: inf,
        vm_id: i64::from(vm.id.0),
        cloud_id: &vm.cloud,
        node_id: vm.node.as_ref().map(NodeId::as_str),
        radl: &vm.radl,
        state: vm.state.as_str(),
        log: &vm.log,
        removed: vm.removed,
        idempotency_key: vm.key.as_str(),
        snapshots: serde_json::Value::from(vm.snapshots.clone()).to_string(),
    };
    let insert = diesel::insert_into(v::infrastructure_vms).values(&row);
    let replaced = (
        v::cloud_id.eq(excluded(v::cloud_id)),
        v::node_id.eq(excluded(v::node_id)),
        v::radl.eq(excluded(v::radl)),
        v::state.eq(excluded(v::state)),
        v::log.eq(excluded(v::log)),
        v::removed.eq(excluded(v::removed)),
        v::idempotency_key.eq(excluded(v::idempotency_key)),
        v::snapshots.eq(excluded(v::snapshots)),
    );
    // ON CONFLICT is each dialect's own clause.
    match conn {
        DbConnection::Pg(pg) => insert
            .on_conflict((v::infrastructure_id, v::vm_id))
            .do_update()
            .set(replaced)
            .execute(pg),
        DbConnection::Sqlite(lite) => insert
            .on_conflict((v::infrastructure_id, v::vm_id))
            .do_update()
            .set(replaced)
            .execute(lite),
    }
    .map(drop)
    .map_err(from_diesel)
}

/// Deletes an infrastructure with its owner links, clouds and VMs. Returns
/// false when it did not exist.
pub(crate) fn delete(conn: &mut DbConnection, id: InfId) -> Result<bool, StoreError> {
    diesel::delete(infrastructures::table.filter(infrastructures::id.eq(id.to_string())))
        .execute(conn)
        .map(|n| n > 0)
        .map_err(from_diesel)
}

/// Sets a VM's state if it still is `from`.
pub(crate) fn set_vm_state(
    conn: &mut DbConnection,
    id: InfId,
    vm: VmId,
    from: VmState,
    to: VmState,
) -> Result<bool, StoreError> {
    diesel::update(
        infrastructure_vms::table
            .filter(infrastructure_vms::infrastructure_id.eq(id.to_string()))
            .filter(infrastructure_vms::vm_id.eq(i64::from(vm.0)))
            .filter(infrastructure_vms::state.eq(from.as_str())),
    )
    .set(infrastructure_vms::state.eq(to.as_str()))
    .execute(conn)
    .map(|n| n > 0)
    .map_err(from_diesel)
}

/// The ids of the infrastructures an owner owns, newest first: one probe of
/// the owner index, then of the infrastructures' primary key.
pub(crate) fn owned_by(conn: &mut DbConnection, owner: OwnerId) -> Result<Vec<InfId>, StoreError> {
    let ids: Vec<String> = infrastructure_owners::table
        .inner_join(infrastructures::table)
        .filter(infrastructure_owners::owner_id.eq(owner.to_string()))
        .order((
            infrastructures::created_at.desc(),
            infrastructures::id.desc(),
        ))
        .select(infrastructures::id)
        .load(conn)
        .map_err(from_diesel)?;
    ids_of(ids)
}

/// The infrastructures not being destroyed with a launched VM that is not
/// removed, oldest first.
pub(crate) fn active(conn: &mut DbConnection) -> Result<Vec<InfId>, StoreError> {
    let launched = infrastructure_vms::table
        .filter(infrastructure_vms::removed.eq(false))
        .filter(infrastructure_vms::node_id.is_not_null())
        .select(infrastructure_vms::infrastructure_id);
    let ids: Vec<String> = infrastructures::table
        .filter(infrastructures::deleting.eq(false))
        .filter(infrastructures::id.eq_any(launched))
        .order((infrastructures::created_at, infrastructures::id))
        .select(infrastructures::id)
        .load(conn)
        .map_err(from_diesel)?;
    ids_of(ids)
}

fn ids_of(ids: Vec<String>) -> Result<Vec<InfId>, StoreError> {
    ids.into_iter()
        .map(|id| InfId::parse(&id).ok_or_else(|| corrupt(&id, "invalid id")))
        .collect()
}

/// The owners with this lookup key, by id.
pub(crate) fn owners(conn: &mut DbConnection, lookup: &str) -> Result<Vec<Owner>, StoreError> {
    im_owners::table
        .filter(im_owners::lookup.eq(lookup))
        .order(im_owners::id)
        .select(OwnerRow::as_select())
        .load(conn)
        .map_err(from_diesel)?
        .into_iter()
        .map(OwnerRow::into_owner)
        .collect()
}

/// Stores an owner; storing one whose id is stored changes nothing.
pub(crate) fn insert_owner(conn: &mut DbConnection, owner: &Owner) -> Result<(), StoreError> {
    let row = OwnerRow::of(owner);
    let insert = diesel::insert_into(im_owners::table).values(&row);
    match conn {
        DbConnection::Pg(pg) => insert.on_conflict(im_owners::id).do_nothing().execute(pg),
        DbConnection::Sqlite(lite) => insert.on_conflict(im_owners::id).do_nothing().execute(lite),
    }
    .map(drop)
    .map_err(from_diesel)
}
