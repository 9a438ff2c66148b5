#!/usr/bin/env python3
# The integration repository of benches/isolate.rs, kept for profiling:
# python3 benches/isolate_repo.py DIR > moved.txt (prints the moved main).
import subprocess, os, sys
root=sys.argv[1]; files=40000; n=64
os.makedirs(root, exist_ok=True)
env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=root)
def git(*a, inp=None):
    return subprocess.run(["git",*a],cwd=root,env=env,input=inp,check=True,capture_output=True).stdout.decode().strip()
git("init","-q","-b","main")
for k,v in [("user.name","Bench"),("user.email","bench@example.com"),("commit.gpgsign","false")]: git("config",k,v)
s=["commit refs/heads/main\ncommitter Bench <bench@example.com> 1700000000 +0000\ndata 5\nfiles\n"]
for i in range(files):
    body=f"file {i}\nsome text to make it a few lines long\nend\n"
    s.append(f"M 100644 inline src/d{i%400:03}/f{i:05}.txt\ndata {len(body)}\n{body}")
s.append("\n")
git("fast-import","--quiet",inp="".join(s).encode())
git("reset","-q","--hard","main")
o=os.path.join(root,".orchestrator")
for sub in ["tickets","cards"]: os.makedirs(os.path.join(o,sub),exist_ok=True)
rows="";ledger=""
for i in range(n):
    id=f"T{i:03}"
    rows+=f"| {id} | Task {i} | development-implementer | - | {id} passes |\n"
    ledger+=f"| {id} | development-implementer | run R1 | pass | - |\n"
    open(f"{o}/tickets/{id}.md","w").write(f"---\nkind: ticket\nid: {id}\nstatus: done\n---\n\n## Dispatch Ticket: {id}\n- Objective: Task {i}\n- Owner Skill: development-implementer\n- Inputs: none\n- Commands/Checks: `true`\n- Expected Artifacts: `work/{id}/x`\n- Risks: none\n- Exit Criteria: {id} passes\n")
    open(f"{o}/cards/{id}.md","w").write(f"---\nkind: card\nid: {id}\n---\n\n## Codex Execution Card: {id}\n- Skill: development-implementer\n- Goal: Task {i}\n- Allowed Scope:\n  - Files/paths: `work/{id}/**`\n  - Prohibited areas: none\n- Commands to run: `true`\n- Tests/checks to run: none\n- Evidence to capture: none\n- Completion criteria: {id} passes\n")
open(f"{o}/plan.md","w").write(f"---\nkind: plan\nid: bench\ntitle: Bench\nstatus: active\n---\n\n# Program Goal\n- Goal: Time isolation.\n- Scope: No-op agents.\n- Non-goals: none\n\n# Phase Tree\n## Phase P1: Only\n- Outcome: Agents run.\n- Workstreams:\n  - UI: none\n  - Core: none\n  - Infrastructure: none\n  - Test: none\n  - Docs: none\n\n## Branch Backlog\n| Branch ID | Objective | Owner Skill | Dependencies | Done Criteria |\n|---|---|---|---|---|\n{rows}")
open(f"{o}/ledger.md","w").write(f"---\nkind: ledger\nplan: bench\n---\n\n# Evidence Ledger\n| Task ID | Owner Skill | Evidence | Result | Next Action |\n|---|---|---|---|---|\n{ledger}\n## Unverified Items\n| Item | Risk | Owner |\n|---|---|---|\n")
open(f"{o}/config.yaml","w").write("agent:\n  command: [\"true\", \"{task}\"]\n  adapter: generic\n")
open(f"{root}/.gitignore","w").write(".orchestrator/logs/\n.orchestrator/runs/\n")
git("add","-A"); git("commit","-q","-m","program")
base=git("rev-parse","HEAD")
s=""
for i in range(n):
    id=f"T{i:03}"; body=f"work of {id}\n"
    msg=f"orch({id}): seal run R1\n\nOrch-Task: {id}\nOrch-Run: R1\nOrch-Base: {base}\n"
    s+=f"commit refs/heads/orch/{id}\ncommitter Bench <bench@example.com> 1700000100 +0000\ndata {len(msg)}\n{msg}from {base}\nM 100644 inline work/{id}/x.txt\ndata {len(body)}\n{body}\n"
git("fast-import","--quiet",inp=s.encode())
open(f"{root}/src/d000/f00000.txt","w").write("changed on main\n")
git("commit","-q","-am","main moved")
print(git("rev-parse","HEAD"))
