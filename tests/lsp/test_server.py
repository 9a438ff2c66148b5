"""`orch lsp` driven by a real LSP client: open the example program, edit
buffers into each class of error and back, and check what the server
publishes and answers."""

import asyncio
import pathlib

from lsprotocol import types

TIMEOUT = 20.0


async def until(check, what):
    """Wait for `check()` to hold (the server publishes asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def codes(client, path):
    return sorted(d.code for d in client.diagnostics.get(path.as_uri(), []))


class Buffer:
    """An open document whose edits go to the server as incremental changes."""

    def __init__(self, client, path: pathlib.Path):
        self.client = client
        self.path = path
        self.uri = path.as_uri()
        self.text = path.read_text()
        self.version = 1
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri, language_id="markdown", version=1, text=self.text
                )
            )
        )

    def position(self, offset: int, utf8=False) -> types.Position:
        before = self.text[:offset]
        line = before.count("\n")
        col = before[before.rfind("\n") + 1 :]
        units = len(col.encode("utf-8")) if utf8 else len(col.encode("utf-16-le")) // 2
        return types.Position(line=line, character=units)

    def at(self, needle: str, delta=0, utf8=False) -> types.Position:
        i = self.text.index(needle)
        return self.position(i + delta, utf8)

    def replace(self, old: str, new: str, utf8=False):
        i = self.text.index(old)
        start, end = self.position(i, utf8), self.position(i + len(old), utf8)
        self.text = self.text[:i] + new + self.text[i + len(old) :]
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=start, end=end), text=new
                    )
                ],
            )
        )

    def apply(self, edits):
        """Apply a code action's edits (end to start) and send the new text."""
        lines = self.text.split("\n")

        def offset(pos):
            return sum(len(l) + 1 for l in lines[: pos.line]) + pos.character

        text = self.text
        for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
            text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
        self.text = text
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


async def clean(client, *paths):
    await until(lambda: all(not client.diagnostics.get(p.as_uri()) for p in paths), "no diagnostics")


async def actions(client, buf, diagnostic):
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=buf.uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )


def only(client, path, code):
    found = [d for d in client.diagnostics.get(path.as_uri(), []) if d.code == code]
    return found[0] if found else None


async def test_initializes_with_utf16_and_the_example_is_clean(client, program):
    assert client.server_info.name == "orch"
    assert client.position_encoding == types.PositionEncodingKind.Utf16
    plan = Buffer(client, program / "plan.md")
    await until(lambda: plan.uri in client.diagnostics, "the plan's first publication")
    assert codes(client, program / "plan.md") == []


async def test_renaming_a_task_in_the_plan_updates_the_cards_that_name_it(client, program):
    plan = Buffer(client, program / "plan.md")
    ticket, card = program / "tickets/P1-CORE-01.md", program / "cards/P1-CORE-01.md"
    plan.replace("| P1-CORE-01 | Implement", "| P1-CORE-1X | Implement")
    await until(lambda: "task-unknown" in codes(client, ticket), "task-unknown on the ticket")
    await until(lambda: "task-unknown" in codes(client, card), "task-unknown on the card")
    await until(lambda: "dep-unknown" in codes(client, program / "plan.md"), "dep-unknown in the plan")
    await until(lambda: "task-unknown" in codes(client, program / "ledger.md"), "the ledger row")
    # The quick fix on a dependency renames it to the nearest task.
    dep = only(client, program / "plan.md", "dep-unknown")
    fixes = await actions(client, plan, dep)
    assert fixes[0].title == "Rename to `P1-CORE-02`", [a.title for a in fixes]
    plan.replace("| P1-CORE-1X | Implement", "| P1-CORE-01 | Implement")
    await clean(client, ticket, card, program / "plan.md", program / "ledger.md")


async def test_a_misspelt_status_has_a_rename_fix(client, program):
    path = program / "tickets/P1-UI-01.md"
    buf = Buffer(client, path)
    buf.replace("status: done", "status: dne")
    d = await until(lambda: only(client, path, "status-invalid"), "status-invalid")
    assert d.range.start == buf.at("dne")
    assert d.severity == types.DiagnosticSeverity.Error
    assert "help:" in d.message
    fixes = await actions(client, buf, d)
    rename = next(a for a in fixes if a.title == "Rename to `done`")
    assert rename.is_preferred
    buf.apply(rename.edit.changes[buf.uri])
    assert "status: done" in buf.text
    await clean(client, path)


async def test_an_unknown_key_and_a_missing_field(client, program):
    path = program / "tickets/P1-UI-01.md"
    buf = Buffer(client, path)
    buf.replace("status: done", "stauts: done")
    d = await until(lambda: only(client, path, "field-unknown"), "field-unknown")
    assert "field-missing" in codes(client, path)
    fixes = await actions(client, buf, d)
    buf.apply(next(a for a in fixes if a.title == "Rename to `status`").edit.changes[buf.uri])
    await clean(client, path)
    # A template field misspelt: the finding is at the label, the fix renames it.
    buf.replace("- Risks: ", "- Rsks: ")
    d = await until(lambda: only(client, path, "field-missing"), "field-missing")
    fixes = await actions(client, buf, d)
    buf.apply(next(a for a in fixes if a.title == "Rename to `Risks`").edit.changes[buf.uri])
    await clean(client, path)
    # A template field removed: the fix adds it back from the template.
    buf.replace("- Risks: ", "- Notes: ")
    d = await until(lambda: only(client, path, "field-missing"), "field-missing")
    fixes = await actions(client, buf, d)
    add = next(a for a in fixes if a.title.startswith("Add `Risks"))
    buf.apply(add.edit.changes[buf.uri])
    assert "\n- Risks: <risks>\n" in buf.text
    await until(lambda: codes(client, path) == ["field-empty"], "the added field's placeholder")


async def test_a_document_that_does_not_parse_yields_diagnostics(client, program):
    path = program / "cards/P1-UI-01.md"
    buf = Buffer(client, path)
    buf.replace("group: G1\n---\n", "group: G1\n")
    await until(lambda: "frontmatter-missing" in codes(client, path), "frontmatter-missing")
    buf.replace("group: G1\n", "group: G1\n---\n")
    await clean(client, path)
    buf.replace("id: P1-UI-01", "id: [P1-UI-01")
    await until(lambda: "frontmatter-invalid" in codes(client, path), "frontmatter-invalid")
    buf.replace("id: [P1-UI-01", "id: P1-UI-01")
    await clean(client, path)
    buf.replace("`web/src/ui/status/**`", "`web/src/ui/[status/**`")
    await until(lambda: "glob-invalid" in codes(client, path), "glob-invalid")
    buf.replace("`web/src/ui/[status/**`", "`web/src/ui/status/**`")
    await clean(client, path)


async def test_a_cycle_and_its_suppression(client, program):
    plan = Buffer(client, program / "plan.md")
    path = program / "plan.md"
    plan.replace("| requirements-analyst | - |", "| requirements-analyst | P1-DOCS-02 |")
    d = await until(lambda: only(client, path, "dep-cycle"), "dep-cycle")
    fixes = await actions(client, plan, d)
    titles = [a.title for a in fixes]
    assert "Suppress `dep-cycle` here (orch-ignore)" in titles, titles
    assert "Suppress `dep-cycle` in this file (orch-ignore-file)" in titles, titles
    here = next(a for a in fixes if a.title.endswith("here (orch-ignore)"))
    plan.apply(here.edit.changes[plan.uri])
    assert "<!-- orch-ignore dep-cycle -->\n| Branch ID |" in plan.text
    await clean(client, path)


async def test_completion(client, program):
    plan = Buffer(client, program / "plan.md")
    # A Dependencies cell: task IDs, not the row's own.
    plan.replace("| P1-UI-01 | Show a sync status badge in the editor toolbar | development-implementer | P1-DOCS-01 |",
                 "| P1-UI-01 | Show a sync status badge in the editor toolbar | development-implementer | P1-DOCS-01, P1- |")
    pos = plan.at("P1-DOCS-01, P1- |", len("P1-DOCS-01, P1-"))
    items = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=plan.uri), position=pos)
    )
    labels = [i.label for i in items.items] if hasattr(items, "items") else [i.label for i in items]
    assert "P1-CORE-01" in labels and "P1-UI-01" not in labels, labels
    # The Owner Skill cell: skills.
    pos = plan.at("| development-implementer | P1-DOCS-01, P1- |", 3)
    items = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=plan.uri), position=pos)
    )
    assert "qa-test-engineer" in [i.label for i in items]

    ticket = Buffer(client, program / "tickets/P1-UI-01.md")
    ticket.replace("status: done", "status: ")
    items = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=ticket.uri),
                               position=ticket.at("status: ", len("status: ")))
    )
    assert {"todo", "in_progress", "done"} <= {i.label for i in items}
    # A label at the start of a list item: the template's fields the ticket lacks.
    ticket.replace("- Risks: ", "- ")
    items = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=ticket.uri),
                               position=ticket.at("\n- The badge", 3))
    )
    labels = [i.label for i in items]
    assert "Risks" in labels and "Objective" not in labels, labels

    card = Buffer(client, program / "cards/P1-UI-01.md")
    card.replace("`web/src/ui/status/**`", "`web/src/ui/s`")
    items = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=card.uri),
                               position=card.at("`web/src/ui/s`", len("`web/src/ui/s")))
    )
    assert {"web/src/ui/status/", "web/src/ui/sync/"} <= {i.label for i in items}, [i.label for i in items]


async def test_hover_definition_references_symbols(client, program):
    plan = Buffer(client, program / "plan.md")
    pos = plan.at("| P2-UI-01 | Support offline", 4)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=plan.uri), position=pos)
    )
    text = hover.contents.value
    assert "**P2-UI-01**" in text and "Objective: Support offline editing" in text, text
    assert "Dependencies: `P1-UI-01` (done), `P1-CORE-01` (done)" in text, text
    assert "Scope: `web/src/ui/sync/**`" in text, text
    assert "Last ledger row:" in text, text

    # A dependency leads to its plan row, ticket and card.
    pos = plan.at("| P1-UI-01, P1-CORE-01 |", 3)
    defs = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=plan.uri), position=pos)
    )
    uris = sorted(d.uri for d in defs)
    assert uris == sorted([plan.uri, (program / "tickets/P1-UI-01.md").as_uri(),
                           (program / "cards/P1-UI-01.md").as_uri()]), uris

    refs = await client.text_document_references_async(
        types.ReferenceParams(text_document=types.TextDocumentIdentifier(uri=plan.uri), position=pos,
                              context=types.ReferenceContext(include_declaration=True))
    )
    files = {pathlib.Path(r.uri.removeprefix("file://")).name for r in refs}
    assert {"plan.md", "P1-UI-01.md", "ledger.md"} <= files, files

    ticket = Buffer(client, program / "tickets/P1-UI-01.md")
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=ticket.uri))
    )
    names = [s.name for s in symbols]
    assert names == ["front matter", "Dispatch Ticket: P1-UI-01"], names
    fields = [c.name for c in symbols[1].children]
    assert fields[:2] == ["Objective", "Owner Skill"] and "Exit Criteria" in fields, fields


async def test_non_ascii_text_in_utf16(client, program):
    path = program / "tickets/P1-UI-01.md"
    buf = Buffer(client, path)
    # `é` is one UTF-16 unit, `𝄞` two: the status column counts them.
    buf.replace("status: done", "status: dne")
    buf.replace("kind: ticket", "kind: ticket # é𝄞")
    buf.replace("status: dne", "status: dné𝄞x")
    d = await until(lambda: only(client, path, "status-invalid"), "status-invalid")
    await until(lambda: client.diagnostics[buf.uri][0].message.startswith("`dné𝄞x`"), "the last text")
    d = only(client, path, "status-invalid")
    assert d.range.start == types.Position(line=3, character=8)
    assert d.range.end == types.Position(line=3, character=8 + 6)


async def test_non_ascii_text_in_utf8(utf8_client, program):
    client = utf8_client
    assert client.position_encoding == types.PositionEncodingKind.Utf8
    path = program / "tickets/P1-UI-01.md"
    buf = Buffer(client, path)
    buf.replace("status: done", "status: dné𝄞x", utf8=True)
    d = await until(lambda: only(client, path, "status-invalid"), "status-invalid")
    assert d.range.start == types.Position(line=3, character=8)
    assert d.range.end == types.Position(line=3, character=8 + 1 + 1 + 2 + 4 + 1)


async def test_skills_sections_scopes_and_status(client, program):
    ticket = program / "tickets/P1-UI-01.md"
    buf = Buffer(client, ticket)
    # A misspelt skill: renamed to the nearest one in config `skills`.
    buf.replace("- Owner Skill: development-implementer", "- Owner Skill: development-implementr")
    d = await until(lambda: only(client, ticket, "skill-unknown"), "skill-unknown")
    fixes = await actions(client, buf, d)
    buf.apply(next(a for a in fixes if a.title == "Rename to `development-implementer`").edit.changes[buf.uri])
    await clean(client, ticket)
    # The template's heading misspelt: the fields are not found.
    buf.replace("## Dispatch Ticket:", "## Dispatch Tciket:")
    await until(lambda: "section-missing" in codes(client, ticket), "section-missing")
    buf.replace("## Dispatch Tciket:", "## Dispatch Ticket:")
    await clean(client, ticket)
    # `done` without its pass row after the row's result changes.
    ledger = program / "ledger.md"
    lbuf = Buffer(client, ledger)
    old = "diff `web/src/ui/status/SyncStatusBadge.tsx` | pass |"
    lbuf.replace(old, old.replace("| pass |", "| fail |"))
    await until(lambda: "status-ledger-mismatch" in codes(client, ticket), "status-ledger-mismatch")
    lbuf.replace(old.replace("| pass |", "| fail |"), old)
    await clean(client, ticket, ledger)
    # Two cards of one group with a common path.
    card, other = program / "cards/P2-CORE-01.md", program / "cards/P2-UI-01.md"
    cbuf = Buffer(client, card)
    cbuf.replace("- Files/paths: `", "- Files/paths: `tests/ui/sync/**`, `")
    await until(lambda: "scope-overlap" in codes(client, card) + codes(client, other), "scope-overlap")
    cbuf.replace("- Files/paths: `tests/ui/sync/**`, `", "- Files/paths: `")
    await clean(client, card, other)


async def test_config_edits_reach_every_document(client, program):
    config = program / "config.yaml"
    ticket = program / "tickets/P1-UI-01.md"
    cfg = Buffer(client, config)
    buf = Buffer(client, ticket)
    buf.replace("status: done", "status: dne")
    await until(lambda: "status-invalid" in codes(client, ticket), "status-invalid")
    # Turning the rule off in the config silences it in the ticket.
    cfg.replace("rules: {}", "rules: {status-invalid: off}")
    await clean(client, ticket)
    # A misspelt code in the config: renamed to the nearest.
    cfg.replace("rules: {status-invalid: off}", "rules: {status-invalidd: off}")
    d = await until(lambda: only(client, config, "config-invalid"), "config-invalid")
    assert "status-invalid" in codes(client, ticket)
    fixes = await actions(client, cfg, d)
    cfg.apply(next(a for a in fixes if a.title == "Rename to `status-invalid`").edit.changes[cfg.uri])
    await clean(client, config, ticket)
    # A config that does not parse is a finding, and the defaults apply.
    cfg.replace("rules: {status-invalid: off}", "rules: [")
    await until(lambda: "config-invalid" in codes(client, config), "config-invalid")
    await until(lambda: "status-invalid" in codes(client, ticket), "status-invalid back")


async def test_a_new_unsaved_document_joins_the_program(client, program):
    path = program / "tickets/P3-UI-01.md"
    text = (program / "tickets/P1-UI-01.md").read_text().replace("P1-UI-01", "P3-UI-01").replace("status: done", "status: todo")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="markdown", version=1, text=text)
        )
    )
    await until(lambda: path.as_uri() in client.diagnostics, "the new ticket's publication")
    # Its skill disagrees with the plan row's: a cross-document finding on a file not on disk.
    buf = Buffer.__new__(Buffer)
    buf.client, buf.path, buf.uri, buf.text, buf.version = client, path, path.as_uri(), text, 1
    buf.replace("- Owner Skill: development-implementer", "- Owner Skill: qa-test-engineer")
    await until(lambda: "skill-mismatch" in codes(client, path), "skill-mismatch")
    # Closed without saving: it is gone, and so are its findings.
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
    )
    await clean(client, path)
