//! Clients: the customers a workspace does projects for.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::client;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::connection::{Count, Cursor, Scope, SortValue, connection_types};
use crate::context::ContextExt;
use crate::deletion::deletion_types;
use crate::error::{DbResultExt, Error, Result, UniqueKey};
use crate::loaders::hours::HoursScope;
use crate::loaders::projects::ProjectParent;
use crate::loaders::workspaces::{ClientCountOf, ClientsOf};
use crate::loaders::{self, ClientById, Loaders, WorkspaceById};
use crate::policy::{self, WorkspaceAction};
use crate::project::{self, ProjectConnection, ProjectFilterInput};
use crate::retry;
use crate::time_log;
use crate::validate;
use crate::workspace::Workspace;

const CLIENT_NAME: UniqueKey = UniqueKey {
    constraint: "uq_clients_workspace_name",
    sqlite_columns: "clients.workspace_id, clients.name",
    field: "name",
    message: "this workspace already has a client with this name",
};

pub struct Client(pub client::Model);

/// A customer of a workspace.
#[Object]
impl Client {
    /// The object's id, unique across all types (a UUID): see `Query.node`.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The client's name: 1–100 characters, unique within the workspace.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The contact's email address, if any.
    async fn contact_email(&self) -> Option<&str> {
        self.0.contact_email.as_deref()
    }

    /// The contact's phone number, if any.
    async fn contact_phone(&self) -> Option<&str> {
        self.0.contact_phone.as_deref()
    }

    /// The workspace the client belongs to.
    async fn workspace(&self, ctx: &Context<'_>) -> Result<Workspace> {
        loaders::required(ctx, WorkspaceById(self.0.workspace_id))
            .await
            .map(Workspace)
    }

    /// The client's projects that the viewer may read (all of them for workspace OWNERs
    /// and ADMINs, else those the viewer is a member of), oldest first. `first` is at most
    /// 100 (default 50).
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many projects to return: 0–100, default 50.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Which projects to list (`clientId`, if given, must be this client's id for any to match)."
        )]
        filter: Option<ProjectFilterInput>,
    ) -> Result<ProjectConnection> {
        project::projects_of(ctx, ProjectParent::Client(self.0.id), first, after, filter).await
    }

    /// The hours logged for the client, summed over its projects the viewer may read; with
    /// `from` and `to`, only logs with `from <= loggedAt < to`.
    async fn total_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count logs at or after this instant.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Count logs before this instant.")] to: Option<DateTime<Utc>>,
    ) -> Result<i32> {
        let viewer = ctx.require_viewer()?;
        let scope = HoursScope::Client {
            client: self.0.id,
            viewer: viewer.user_id,
        };
        time_log::total_hours(ctx, scope, from, to).await
    }

    /// When the client was created (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the client was last updated (RFC 3339, UTC): by any `update…` of it, even one
    /// that changed nothing; equal to `createdAt` until the first.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

connection_types!(ClientConnection, ClientEdge, Client, "clients");

/// A page of `workspace`'s clients by name, then id. The caller has checked that the
/// viewer is a member.
pub(crate) async fn clients_of(
    ctx: &Context<'_>,
    workspace: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> Result<ClientConnection> {
    let scope = Scope {
        connection: "Workspace.clients",
        parent: workspace,
        order: "NAME_ASC",
    };
    let loaded = loaders::connection_page(ctx, first, after.as_deref(), scope, |page| ClientsOf {
        workspace,
        page,
    })
    .await?;
    Ok(ClientConnection::build(
        loaded,
        scope,
        |row| Cursor {
            value: SortValue::Text(row.name.clone()),
            id: row.id,
        },
        Client,
        Count::later(ClientCountOf(workspace)),
    ))
}

/// What `createClient` asks for.
#[derive(InputObject)]
pub struct CreateClientInput {
    /// Optional client-chosen id (a UUID) for safe retries; see `createWorkspace`.
    pub id: Option<ID>,
    /// The workspace the client is a customer of.
    pub workspace_id: ID,
    /// The client's name: 1–100 characters (trimmed), unique within the workspace.
    pub name: String,
    /// A valid email address, at most 255 characters, stored lower-cased; blank means none.
    pub contact_email: Option<String>,
    /// At most 20 digits, spaces and `+ - ( ) .`, with at least one digit; blank means none.
    pub contact_phone: Option<String>,
}

/// What `updateClient` changes; absent fields stay, `null` clears the nullable ones (see
/// each field).
#[derive(InputObject)]
pub struct UpdateClientInput {
    /// The id of the client to change.
    pub id: ID,
    /// A new name, 1–100 characters, unique within the workspace; absent or `null` keeps
    /// the current one.
    pub name: Option<String>,
    /// A new contact email, a valid address of at most 255 characters; `null` or blank
    /// clears it.
    pub contact_email: MaybeUndefined<String>,
    /// A new contact phone, at most 20 digits, spaces and `+ - ( ) .`; `null` or blank
    /// clears it.
    pub contact_phone: MaybeUndefined<String>,
}

deletion_types!(
    DeleteClientInput,
    DeleteClientPayload,
    "deleteClient",
    "client"
);

#[derive(Default)]
pub struct ClientMutation;

/// Writes to clients: workspace OWNERs and ADMINs.
#[Object]
impl ClientMutation {
    /// Adds a client to a workspace: its OWNERs and ADMINs (other members get `FORBIDDEN`,
    /// non-members `NOT_FOUND`). `CONFLICT` on `name` when the workspace has one so named;
    /// `BAD_USER_INPUT` with the offending `field` for invalid input.
    async fn create_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The workspace and the new client's name and contact.")]
        input: CreateClientInput,
    ) -> Result<Client> {
        let id = validate::optional_id("id", input.id.as_ref())?;
        let workspace_id = validate::id("workspaceId", &input.workspace_id)?;
        let name = validate::required_text("name", &input.name, validate::NAME_CHARS)?;
        let contact_email = contact_email(input.contact_email.as_deref())?;
        let contact_phone = validate::phone("contactPhone", input.contact_phone.as_deref())?;
        policy::authorize_workspace(ctx, workspace_id, WorkspaceAction::ManageClients).await?;
        let db = ctx.db()?;
        let find = |id: Uuid| async move { Ok(client::Entity::find_by_id(id).one(db).await?) };
        let same = |existing: &client::Model| {
            existing.workspace_id == workspace_id
                && existing.name == name
                && existing.contact_email == contact_email
                && existing.contact_phone == contact_phone
        };
        let insert = || async {
            ensure_unique_name(db, workspace_id, &name, None).await?;
            client::ActiveModel {
                id: id.map_or(sea_orm::ActiveValue::NotSet, Set),
                workspace_id: Set(workspace_id),
                name: Set(name.clone()),
                contact_email: Set(contact_email.clone()),
                contact_phone: Set(contact_phone.clone()),
                ..Default::default()
            }
            .insert(db)
            .await
            .on_unique(CLIENT_NAME)
        };
        let created = retry::create_once(id, find, same, insert).await?;
        Ok(Client(created))
    }

    /// Changes a client's name or contact: workspace OWNERs and ADMINs. `CONFLICT` on
    /// `name` when another client of the workspace has it.
    async fn update_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client and the fields to change.")] input: UpdateClientInput,
    ) -> Result<Client> {
        let id = validate::id("id", &input.id)?;
        let name = validate::name_patch(input.name.as_deref(), validate::NAME_CHARS)?;
        let contact_email =
            validate::patch(&input.contact_email, |email| contact_email(Some(email)))?;
        let contact_phone = validate::patch(&input.contact_phone, |phone| {
            validate::phone("contactPhone", Some(phone))
        })?;
        let found = authorize(ctx, id).await?;
        let db = ctx.db()?;
        if let Some(name) = &name {
            ensure_unique_name(db, found.workspace_id, name, Some(id)).await?;
        }
        let mut change: client::ActiveModel = found.into();
        if let Some(name) = name {
            change.name = Set(name);
        }
        if let Some(email) = contact_email {
            change.contact_email = Set(email);
        }
        if let Some(phone) = contact_phone {
            change.contact_phone = Set(phone);
        }
        Ok(Client(change.update(db).await.on_unique(CLIENT_NAME)?))
    }

    /// Deletes a client and, with it, its projects: workspace OWNERs and ADMINs. Returns
    /// its id.
    async fn delete_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client to delete.")] input: DeleteClientInput,
    ) -> Result<DeleteClientPayload> {
        let id = validate::id("id", &input.id)?;
        authorize(ctx, id).await?;
        client::Entity::delete_by_id(id).exec(ctx.db()?).await?;
        Ok(DeleteClientPayload { id: input.id })
    }
}

/// Loads client `id` and checks that the viewer manages its workspace's clients.
async fn authorize(ctx: &Context<'_>, id: Uuid) -> Result<client::Model> {
    ctx.require_viewer()?;
    let loader = ctx.service::<DataLoader<Loaders>>()?;
    let found = loaders::by_id(loader, ClientById(id))
        .await?
        .ok_or(Error::NotFound)?;
    policy::authorize_workspace(ctx, found.workspace_id, WorkspaceAction::ManageClients).await?;
    Ok(found)
}

fn contact_email(value: Option<&str>) -> Result<Option<String>> {
    value
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .map(|email| validate::email("contactEmail", email))
        .transpose()
}

async fn ensure_unique_name(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    let mut query = client::Entity::find()
        .filter(client::Column::WorkspaceId.eq(workspace_id))
        .filter(client::Column::Name.eq(name));
    if let Some(id) = except {
        query = query.filter(client::Column::Id.ne(id));
    }
    if query.count(db).await? > 0 {
        return Err(CLIENT_NAME.conflict());
    }
    Ok(())
}
