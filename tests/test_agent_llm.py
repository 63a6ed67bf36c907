"""The LLM planner with fake chat models (good, malformed, failing replies) and once through a real
LangChain provider client (langchain-openai) against an OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from tierchem.agent.llm import LLMPlanner, make_planner
from tierchem.agent.session import Investigation


class ScriptedToolModel(BaseChatModel):
    """A tool-calling fake: each call pops the next scripted reply.

    A reply is a dict (tool-call arguments for the requested schema), the string "garbage"
    (arguments that do not validate) or an Exception instance (the provider failed).
    """

    replies: list[Any]
    calls: int = 0
    schema_name: str = ""

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-model"

    def bind_tools(self, tools, **kwargs):
        from langchain_core.utils.function_calling import convert_to_openai_tool

        self.schema_name = convert_to_openai_tool(tools[0])["function"]["name"]
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls += 1
        reply = self.replies.pop(0) if self.replies else {"reasoning": "done", "actions": [{"kind": "conclude"}]}
        if isinstance(reply, Exception):
            raise reply
        args = {"unexpected": "shape"} if reply == "garbage" else reply
        msg = AIMessage(content="", tool_calls=[{"name": self.schema_name, "args": args, "id": uuid.uuid4().hex}])
        return ChatResult(generations=[ChatGeneration(message=msg)])


def write_series(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "series.csv").write_text("name,smiles,role\niodobenzene,Ic1ccccc1,target\n"
                                     "bromobenzene,Brc1ccccc1,analog\nchlorobenzene,Clc1ccccc1,analog\n")
    return path


PROPOSALS = {"reasoning": "Shape may matter.", "hypotheses": [
    {"statement": "The iodine makes the molecule longer.", "category": "shape_sterics",
     "observables": ["molecular_volume"], "direction": "higher"},
    {"statement": "Something the catalogue cannot test.", "category": "no-such-category", "observables": ["nope"]}]}
PLAN = {"reasoning": "Volumes first: cheap.", "actions": [
    {"kind": "compute", "observable": "molecular_volume", "tier": 0},
    {"kind": "compute", "observable": "sigma_hole", "tier": 1}]}  # invalid: a force field has no sigma hole


def run_llm(tmp_path, replies, tier_cap=0):
    model = ScriptedToolModel(replies=list(replies))
    inv = Investigation.create(write_series(tmp_path / "s"), "Why?", tmp_path / "run", llm=model,
                               tier_cap=tier_cap, store_path=tmp_path / "store.sqlite")
    v = inv.run()
    inv.close()
    return model, inv.planner, v


def test_good_replies_become_typed_actions(tmp_path):
    model, planner, v = run_llm(tmp_path, [PROPOSALS, PLAN])
    l1 = v.hypothesis("L1")
    assert l1.source == "llm" and l1.observables[0].observable == "molecular_volume"
    assert v.hypothesis("L2").category == "other" and v.hypothesis("L2").observables == []
    assert any(r.observable == "molecular_volume" for r in v.results)
    planner_lines = [t.text for t in v.transcript if t.speaker == "planner"]
    assert "Volumes first" in planner_lines[0] and "dropped invalid actions: sigma_hole@1" in planner_lines[0]
    assert planner.fallbacks == 0 and v.conclusion is not None


def test_malformed_then_failing_replies_fall_back_to_builtin(tmp_path):
    # proposals: garbage, garbage, garbage -> built-in (no extra hypotheses);
    # plan: an exception, then garbage, then an invalid-only action -> built-in takes that step
    bad_plan = {"reasoning": "x", "actions": [{"kind": "compute", "observable": "made_up", "tier": 0}]}
    model, planner, v = run_llm(tmp_path, ["garbage"] * 3 + [RuntimeError("HTTP 500"), "garbage", bad_plan])
    assert not any(h.source == "llm" for h in v.hypotheses)
    assert planner.fallbacks >= 2
    texts = " ".join(t.text for t in v.transcript if t.speaker == "planner")
    assert "built-in planner, after the LLM failed" in texts
    assert v.conclusion is not None  # the run went on


def test_free_text_steering_through_the_model(tmp_path):
    model = ScriptedToolModel(replies=[{"reasoning": "They doubt shape.", "actions": [
        {"kind": "reject", "hypothesis_id": "shape_sterics", "text": "the scientist doubts shape"}]}])
    planner = LLMPlanner(model)
    from tierchem.agent.state import Hypothesis, InvestigationView, Series, SeriesMember
    from tierchem.chem import Molecule

    m = Molecule.from_smiles("Ic1ccccc1", name="t")
    v = InvestigationView(series=Series(source="x", members=[
        SeriesMember(name="t", smiles="Ic1ccccc1", role="target", molecule=m.model_dump(mode="json"))]),
        hypotheses=[Hypothesis(id="shape_sterics", category="shape_sterics", statement="s")])
    step = planner.interpret("I really don't think shape is it", v)
    assert step.actions[0].kind == "reject" and step.actions[0].hypothesis_id == "shape_sterics"
    assert planner.interpret("why shape_sterics", v).actions[0].kind == "explain"  # commands skip the model


# ------------------------------------------------------------------ a real client on loopback
class _Handler(BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.seen.append({"auth": self.headers.get("Authorization"), "body": body})
        if body.get("tools"):
            name = body["tools"][0]["function"]["name"]
        else:
            name = body.get("response_format", {}).get("json_schema", {}).get("name", "")
        if name == "HypothesisProposals":
            args = {"reasoning": "none needed", "hypotheses": []}
        else:
            args = {"reasoning": "Check shape on the loopback server.",
                    "actions": [{"kind": "compute", "observable": "asphericity", "tier": 0}, {"kind": "conclude"}]}
        message: dict = {"role": "assistant", "content": None}
        if body.get("tools"):
            message["tool_calls"] = [{"id": "call_1", "type": "function",
                                      "function": {"name": name, "arguments": json.dumps(args)}}]
            finish = "tool_calls"
        else:
            message["content"] = json.dumps(args)
            finish = "stop"
        reply = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model"),
                 "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def loopback_server():
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_real_openai_client_on_loopback(tmp_path, loopback_server, monkeypatch):
    pytest.importorskip("langchain_openai")
    key = "sk-test-" + uuid.uuid4().hex
    monkeypatch.setenv("TIERCHEM_LLM_API_KEY", key)
    run = tmp_path / "run"
    spec = f"{loopback_server}@tiny-model"
    inv = Investigation.create(write_series(tmp_path / "s"), "Why?", run, llm=spec, tier_cap=0,
                               store_path=tmp_path / "store.sqlite")
    v = inv.run()
    inv.close()
    assert _Handler.seen and all(s["auth"] == f"Bearer {key}" for s in _Handler.seen)
    assert any(r.observable == "asphericity" for r in v.results)
    assert any("loopback server" in t.text for t in v.transcript)
    # the key reaches the server, and nowhere else
    for path in run.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path.name
    assert json.loads((run / "settings.json").read_text())["llm"] == spec
    # reopening with the provider string from settings works with the key from the environment
    assert isinstance(make_planner(spec), LLMPlanner)
