"""Fixtures for driving `orch lsp` with pytest-lsp (a real LSP client, pygls).

The binary comes from the ORCH environment variable (tests/it/lsp.rs sets it
to the one cargo built). Each test gets a fresh git repository holding the
bundled example program (`orch init --example`), with its files staged so
the git index lists them.
"""

import asyncio
import os
import pathlib
import subprocess

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

ORCH = os.environ.get("ORCH", "orch")


def make_program(root: pathlib.Path) -> pathlib.Path:
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "HOME": str(root),
    }
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    subprocess.run([ORCH, "init", "--example", "--no-commit"], cwd=root, check=True, env=env,
                   stdout=subprocess.DEVNULL)
    (root / "web/src/ui/status").mkdir(parents=True)
    (root / "web/src/ui/status/Badge.tsx").write_text("export {}\n")
    (root / "web/src/ui/sync").mkdir(parents=True)
    (root / "web/src/ui/sync/Banner.tsx").write_text("export {}\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    return root / ".orchestrator"


@pytest.fixture
def program(tmp_path) -> pathlib.Path:
    return make_program(tmp_path / "repo")


def capabilities(encodings=None) -> types.ClientCapabilities:
    general = types.GeneralClientCapabilities(position_encodings=encodings) if encodings else None
    return types.ClientCapabilities(
        general=general,
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                related_information=True, version_support=True
            ),
            completion=types.CompletionClientCapabilities(
                completion_item=types.ClientCompletionItemOptions(snippet_support=False)
            ),
            hover=types.HoverClientCapabilities(
                content_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText]
            ),
            document_symbol=types.DocumentSymbolClientCapabilities(
                hierarchical_document_symbol_support=True
            ),
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=[types.CodeActionKind.QuickFix]
                    )
                )
            ),
        ),
    )


async def start(program: pathlib.Path, encodings=None) -> LanguageClient:
    root = program.parent
    client = await ClientServerConfig(server_command=[ORCH, "lsp"]).start()
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(encodings),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="repo")],
            root_uri=root.as_uri(),
        )
    )
    client.server_info = result.server_info
    client.position_encoding = result.capabilities.position_encoding
    return client


@pytest.fixture
async def client(program):
    """A UTF-16 client (no position encodings offered)."""
    client = await start(program)
    yield client
    await client.shutdown_session()
    await client.stop()
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]


@pytest.fixture
async def utf8_client(program):
    client = await start(program, [types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16])
    yield client
    await client.shutdown_session()
    await client.stop()
