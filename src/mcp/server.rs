//! The MCP handler: tools and resources over rmcp's server role.
//!
//! Every call runs on tokio's blocking pool, one at a time (the context is
//! behind a mutex), with panics caught: a bug answers `internal-error`
//! and the server goes on. Resources are the program's documents, read
//! from the program the server holds: `orch://plan`, `orch://ledger`,
//! `orch://cards/<ID>` (listed) and `orch://tickets/<ID>` (a template).

use std::sync::{Arc, Mutex};

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};
use serde_json::{Map, Value};

use crate::model::Kind;
use crate::util::is_valid_id;

use super::tools::{self, Answer, Context, Tier, ToolError};

/// Resources listed per page.
const PAGE: usize = 500;

const INSTRUCTIONS: &str = "orch keeps this repository's plan of parallel tasks under .orchestrator/: a Master Plan, a Dispatch Ticket and an Execution Card per task, an Evidence Ledger. Find work with `next`; read a task with `show` (the card, your brief, is the resource orch://cards/<ID>); `start` it; stay inside its card's Allowed Scope and check with `scope_check` before you finish; then `record` the result (pass, partial or fail) with evidence, or `block` it with a reason. Transitions are git commits. Answers are the JSON of `orch <command> --format json`.";

/// The server: the tools of one tier over one context.
#[derive(Clone)]
pub struct Server {
    context: Arc<Mutex<Context>>,
    tools: Arc<Vec<Tool>>,
    tier: Tier,
}

impl Server {
    pub fn new(context: Context) -> Server {
        let tier = context.tier;
        let tools = tools::offered(tier)
            .map(|t| {
                let mut tool = Tool::new(t.name, t.description, (t.schema)());
                tool.title = Some(t.title.to_string());
                tool.annotations = Some(
                    ToolAnnotations::with_title(t.title)
                        .read_only(t.read_only)
                        .destructive(false)
                        .idempotent(t.read_only)
                        .open_world(false),
                );
                tool
            })
            .collect();
        Server {
            context: Arc::new(Mutex::new(context)),
            tools: Arc::new(tools),
            tier,
        }
    }

    /// Run `work` on the context, on the blocking pool, a panic caught.
    async fn with_context<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Context) -> Result<T, ToolError> + Send + 'static,
    ) -> Result<T, ToolError> {
        let context = self.context.clone();
        let job = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut cx = context
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                work(&mut cx)
            }))
        });
        match job.await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(ToolError::new(
                    "internal-error",
                    format!("orch failed inside (a bug, please report it): {what}"),
                ))
            }
            Err(e) => Err(ToolError::new(
                "internal-error",
                format!("the call did not finish: {e}"),
            )),
        }
    }
}

/// A tool's answer as MCP content: the JSON as structured content and as
/// text, then the notes.
fn answered(answer: Answer) -> CallToolResult {
    let mut result = CallToolResult::structured(answer.value);
    result
        .content
        .extend(answer.notes.into_iter().map(ContentBlock::text));
    result
}

fn failed(error: &ToolError) -> CallToolResult {
    CallToolResult::structured_error(error.to_json())
}

/// A resource URI's kind and ID: `orch://cards/P1-UI-01`.
fn parse_uri(uri: &str) -> Option<(Kind, Option<&str>)> {
    let rest = uri.strip_prefix("orch://")?;
    match rest {
        "plan" => Some((Kind::Plan, None)),
        "ledger" => Some((Kind::Ledger, None)),
        _ => {
            let (kind, id) = rest.split_once('/')?;
            let kind = match kind {
                "cards" => Kind::Card,
                "tickets" => Kind::Ticket,
                _ => return None,
            };
            is_valid_id(id).then_some((kind, Some(id)))
        }
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("orch", env!("CARGO_PKG_VERSION")).with_title("orch"))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.to_string();
        if !self.tools.iter().any(|t| t.name == name) {
            let e = tools::unknown_tool(&name, self.tier);
            return Err(McpError::invalid_params(
                format!("{}: {}", e.message, e.help.unwrap_or_default()),
                None,
            ));
        }
        let arguments: Map<String, Value> = request.arguments.unwrap_or_default();
        let result = self
            .with_context(move |cx| tools::call(cx, &name, arguments))
            .await;
        Ok(match result {
            Ok(answer) => answered(answer),
            Err(e) => failed(&e),
        }
        .into())
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let start: usize = match request.and_then(|r| r.cursor) {
            Some(c) => c
                .parse()
                .map_err(|_| McpError::invalid_params("bad cursor", None))?,
            None => 0,
        };
        let all = self
            .with_context(|cx| {
                let loaded = cx
                    .cache()?
                    .get()
                    .map_err(|e| ToolError::from_error(e, "no-program"))?;
                let program = &loaded.program;
                let mut out = Vec::new();
                for (kind, uri, name) in [
                    (Kind::Plan, "orch://plan", "plan"),
                    (Kind::Ledger, "orch://ledger", "ledger"),
                ] {
                    let doc = match kind {
                        Kind::Plan => program.plan(),
                        _ => program.ledger(),
                    };
                    if let Some(doc) = doc {
                        let file = program.file(doc.file);
                        out.push(
                            Resource::new(uri, name)
                                .with_title(format!("{} ({})", name, file.path))
                                .with_mime_type("text/markdown")
                                .with_size(file.text.len() as u64),
                        );
                    }
                }
                for t in &loaded.index.tasks {
                    let Some(card) = t.card else { continue };
                    let file = program.file(program.docs[card].file);
                    out.push(
                        Resource::new(format!("orch://cards/{}", t.id), t.id.clone())
                            .with_title(format!("{}: {}", t.id, crate::query::text(&t.objective)))
                            .with_description(format!(
                                "Execution Card of {} ({}), {}",
                                t.id, t.status, file.path
                            ))
                            .with_mime_type("text/markdown")
                            .with_size(file.text.len() as u64),
                    );
                }
                Ok(out)
            })
            .await
            .map_err(|e| McpError::internal_error(e.message.clone(), Some(e.to_json())))?;
        let end = (start + PAGE).min(all.len());
        let page = all.get(start.min(end)..end).unwrap_or_default().to_vec();
        let mut result = ListResourcesResult::with_all_items(page);
        if end < all.len() {
            result.next_cursor = Some(end.to_string());
        }
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new("orch://cards/{id}", "card")
                .with_title("A task's Execution Card")
                .with_mime_type("text/markdown"),
            ResourceTemplate::new("orch://tickets/{id}", "ticket")
                .with_title("A task's Dispatch Ticket")
                .with_mime_type("text/markdown"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri;
        let Some((kind, id)) = parse_uri(&uri) else {
            return Err(McpError::resource_not_found(
                format!(
                    "no resource `{}`: orch serves orch://plan, orch://ledger, orch://cards/<ID> and orch://tickets/<ID>",
                    crate::util::clip_chars(&crate::util::one_line(&uri), 120)
                ),
                None,
            ));
        };
        let id = id.map(str::to_string);
        let shown = uri.clone();
        let text = self
            .with_context(move |cx| {
                let loaded = cx
                    .cache()?
                    .get()
                    .map_err(|e| ToolError::from_error(e, "no-program"))?;
                let program = &loaded.program;
                let doc = match (&id, kind) {
                    (None, Kind::Plan) => program.plan(),
                    (None, _) => program.ledger(),
                    (Some(id), kind) => loaded
                        .index
                        .task(id)
                        .and_then(|t| match kind {
                            Kind::Card => t.card,
                            _ => t.ticket,
                        })
                        .map(|d| &program.docs[d]),
                };
                Ok(doc.map(|d| program.file(d.file).text.to_string()))
            })
            .await
            .map_err(|e| McpError::internal_error(e.message.clone(), Some(e.to_json())))?;
        let Some(text) = text else {
            return Err(McpError::resource_not_found(
                format!("`{shown}` names no document of this program"),
                None,
            ));
        };
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, uri).with_mime_type("text/markdown"),
        ])
        .into())
    }
}

/// Serve on stdin and stdout until the client closes them.
pub fn serve(context: Context) -> crate::error::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(crate::error::Error::Output)?;
    let result = runtime.block_on(async {
        use rmcp::ServiceExt;
        let service = Server::new(context)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| crate::error::Error::usage(format!("MCP session did not start: {e}")))?;
        service
            .waiting()
            .await
            .map_err(|e| crate::error::Error::usage(format!("MCP session failed: {e}")))?;
        Ok(())
    });
    // A read of stdin still pending cannot be cancelled: do not wait for it.
    runtime.shutdown_background();
    result
}
