"""Drive `orch mcp` with the official MCP Python SDK (PyPI `mcp`) as the
client, the way Claude Code or Codex would, and print what each step
answered as one JSON object for tests/it/mcp.rs to check.

Usage: python3 client.py ORCH_BINARY REPOSITORY

The steps, in order: initialize; list the tools and resources; call every
core tool on the program; read a card; the bad calls (an ID that climbs
out with `../`, an unknown ID, a wrong type, an unknown field, a refused
transition, an unknown tool); the transitions `start`, `record` and
`block`, each a commit; then an edit of plan.md between two `show` calls.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def dump(result):
    """A CallToolResult as plain JSON."""
    return {
        "is_error": bool(result.is_error),
        "structured": result.structured_content,
        "texts": [c.text for c in result.content if getattr(c, "type", "") == "text"],
    }


async def main(orch, repo):
    out = {}
    params = StdioServerParameters(command=orch, args=["mcp"], cwd=repo, env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["initialize"] = {
                "name": init.server_info.name,
                "version": init.server_info.version,
                "protocol": init.protocol_version,
                "tools": init.capabilities.tools is not None,
                "resources": init.capabilities.resources is not None,
                "instructions": init.instructions,
            }
            tools = await session.list_tools()
            out["tools"] = {t.name: t.input_schema for t in tools.tools}
            out["read_only"] = {
                t.name: bool(t.annotations and t.annotations.read_only_hint) for t in tools.tools
            }

            calls = out["calls"] = {}
            calls["next"] = dump(await session.call_tool("next", {}))
            calls["status"] = dump(await session.call_tool("status", {}))
            calls["show"] = dump(await session.call_tool("show", {"id": "P2-CORE-03"}))
            calls["lint"] = dump(await session.call_tool("lint", {}))
            calls["scope_check"] = dump(await session.call_tool("scope_check", {}))

            resources = await session.list_resources()
            out["resources"] = [str(r.uri) for r in resources.resources]
            card = await session.read_resource("orch://cards/P2-CORE-01")
            out["card"] = card.contents[0].text

            bad = out["bad"] = {}
            bad["climbing_id"] = dump(await session.call_tool("show", {"id": "../../etc/passwd"}))
            bad["unknown_id"] = dump(await session.call_tool("show", {"id": "P2-CORE-99"}))
            bad["wrong_type"] = dump(await session.call_tool("show", {"id": 5}))
            bad["unknown_field"] = dump(await session.call_tool("next", {"all": True}))
            bad["refused"] = dump(
                await session.call_tool(
                    "record", {"id": "P2-CORE-03", "result": "pass", "evidence": "too early"}
                )
            )
            try:
                await session.call_tool("no_such_tool", {})
                bad["unknown_tool"] = "answered"
            except Exception as e:  # the SDK raises the JSON-RPC error
                bad["unknown_tool"] = str(e)
            try:
                await session.read_resource("orch://cards/../../etc/passwd")
                bad["climbing_resource"] = "answered"
            except Exception as e:
                bad["climbing_resource"] = str(e)

            moves = out["transitions"] = {}
            moves["start"] = dump(await session.call_tool("start", {"ids": ["P2-INFRA-01"]}))
            moves["record"] = dump(
                await session.call_tool(
                    "record",
                    {
                        "id": "P2-INFRA-01",
                        "result": "pass",
                        "evidence": "kubectl rollout status: deployment successfully rolled out",
                    },
                )
            )
            moves["block"] = dump(
                await session.call_tool(
                    "block", {"id": "P2-UI-01", "reason": "waiting for the design review"}
                )
            )

            # Documents edited between two calls: the next call sees them.
            orchestrator = os.path.join(repo, ".orchestrator")
            before = dump(await session.call_tool("show", {"id": "P2-DOCS-01"}))
            plan = os.path.join(orchestrator, "plan.md")
            with open(plan, encoding="utf-8") as f:
                text = f.read()
            old = before["structured"]["objective"]
            with open(plan, "w", encoding="utf-8") as f:
                f.write(text.replace(old, "Write the sync guide, edited while the server ran"))
            after = dump(await session.call_tool("show", {"id": "P2-DOCS-01"}))
            card = os.path.join(orchestrator, "cards", "P2-CORE-02.md")
            with open(card, encoding="utf-8") as f:
                text = f.read()
            with open(card, "w", encoding="utf-8") as f:
                f.write(text.replace("`core/src/sync/transport/**`", "`core/src/sync/transport/[`"))
            broken = dump(await session.call_tool("start", {"ids": ["P2-CORE-02"]}))
            out["edit"] = {
                "before": before,
                "after": after,
                "broken_card_start": broken,
                "next": dump(await session.call_tool("next", {})),
            }
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
