"""The NLU inbox: uncertain messages first, annotation with entity markup, export into data/ as a clean YAML diff."""

from __future__ import annotations

import re

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from console.inbox import inbox
from console.models import AuditEntry, NluAnnotation
from console.nlu import load_training_data, plan_export
from tests.console.conftest import ROLE_USERS, XSS, Console, log_in


def _annotator(console: Console) -> tuple[TestClient, str]:
    client = console.client()
    return client, log_in(client, ROLE_USERS["annotator"])


def _items(console: Console) -> list[tuple[int, str, str | None]]:
    config = console.state.config
    training = load_training_data(config.training_data_dir, config.domain_file)
    with console.state.db.transaction() as session:
        return [(i.event_id, i.text, i.intent) for i in inbox(session, console.state.tracker, training)]


def test_inbox_lists_new_messages_least_confident_first_masked(console: Console) -> None:
    client, _ = _annotator(console)
    page = client.get("/nlu")
    assert page.status_code == 200
    texts = [re.sub(r"&#39;", "'", t) for t in re.findall(r'class="text inbox-text">([^<]*)<', page.text)]
    assert texts[0] == "&lt;script&gt;alert(1)&lt;/script&gt;"  # 0.42, the least confident, escaped
    assert "Payment  Methods" not in page.text  # already training data (case and spacing ignored)
    assert "Hi, my email is [email] and my order is [order]" in texts
    assert "jane.doe@example.com" not in page.text and "SO-123456" not in page.text
    # the suggested example carries made-up values in the entity markup, not the customer's
    assert "Hi, my email is [jane@example.com](email) and my order is [SO-100001](order_id)" in page.text
    assert "invoice (0.42)" in page.text
    assert XSS not in page.text


def test_annotate_approve_with_entities_reject_and_refuse_bad_annotations(console: Console) -> None:
    client, csrf = _annotator(console)
    items = {text: event_id for event_id, text, _ in _items(console)}
    late = items["this is useless, it was promised last week!!!"]
    xss = items["<script>alert(1)</script>"]

    def post(event_id: int, **form: str) -> int:
        return client.post(f"/nlu/annotate/{event_id}", data={**form, "csrf_token": csrf}).status_code

    example = "this is useless, my [boots](product) were promised last week!!!"
    assert post(late, verdict="approved", intent="complaint", example=example) == 303
    assert post(xss, verdict="rejected") == 303
    assert post(late, verdict="approved", intent="no_such_intent", example="x") == 400
    assert post(late, verdict="approved", intent="complaint", example="my [boots](shoe_kind)") == 400
    assert post(late, verdict="approved", intent="complaint", example="mail me at [email]") == 400
    assert post(late, verdict="approved", intent="complaint", example="[boots](product") == 400
    assert post(late, verdict="maybe", intent="complaint", example="x") == 400
    assert post(999_999, verdict="rejected") == 404
    left = {text for _, text, _ in _items(console)}
    assert "this is useless, it was promised last week!!!" not in left and "<script>alert(1)</script>" not in left
    with console.state.db.transaction() as session:
        approved = session.get(NluAnnotation, late)
        assert approved is not None and approved.intent == "complaint" and approved.example == example
        assert approved.predicted_intent == "delivery_problem" and approved.annotator == "annotator@example.com"


def test_export_writes_a_clean_yaml_diff_into_the_training_files(console: Console) -> None:
    client, csrf = _annotator(console)
    items = {text: event_id for event_id, text, _ in _items(console)}
    nlu_dir = console.state.config.training_data_dir / "nlu"
    before = {p.name: p.read_text() for p in nlu_dir.glob("*.yml")}
    client.post(
        f"/nlu/annotate/{items['this is useless, it was promised last week!!!']}",
        data={"verdict": "approved", "intent": "complaint", "example": "my [boots](product) are late, useless!!!",
              "csrf_token": csrf},
    )  # fmt: skip
    preview = client.get("/nlu/export")
    assert preview.status_code == 200
    assert "+    - my [boots](product) are late, useless!!!" in preview.text
    assert {p.name: p.read_text() for p in nlu_dir.glob("*.yml")} == before  # the preview writes nothing

    written = client.post("/nlu/export", data={"csrf_token": csrf})
    assert written.status_code == 200 and 'id="export-written"' in written.text
    after = {p.name: p.read_text() for p in nlu_dir.glob("*.yml")}
    changed = [name for name in after if after[name] != before.get(name)]
    assert len(changed) == 1
    added = [line for line in after[changed[0]].splitlines() if line not in before[changed[0]].splitlines()]
    assert added == ["    - my [boots](product) are late, useless!!!"]  # one line, nothing else moved
    blocks = yaml.safe_load(after[changed[0]])["nlu"]
    (complaint,) = [b for b in blocks if b["intent"] == "complaint"]
    assert "- my [boots](product) are late, useless!!!" in complaint["examples"]
    config = console.state.config
    training = load_training_data(config.training_data_dir, config.domain_file)
    assert plan_export(config.training_data_dir, training, []).diff == ""
    assert "(no change)" in client.get("/nlu/export").text  # exported once only
    with console.state.db.transaction() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "export_training_data")).all()
        assert entry.actor == "annotator@example.com" and entry.detail == "1 examples"


def test_an_intent_without_examples_gets_a_block_in_its_own_file(console: Console) -> None:
    config = console.state.config
    domain = config.domain_file.read_text()
    config.domain_file.write_text(domain.replace("intents:\n", "intents:\n  - new_topic\n", 1))
    training = load_training_data(config.training_data_dir, config.domain_file)
    assert "new_topic" in training.intents and "new_topic" not in training.intent_files
    export = plan_export(
        config.training_data_dir, training, [("new_topic", "tell me more"), ("new_topic", "Tell me  MORE")]
    )
    (path,) = export.files
    assert path == config.training_data_dir / "nlu" / "annotated.yml"
    assert yaml.safe_load(export.files[path]) == {
        "version": "3.1",
        "nlu": [{"intent": "new_topic", "examples": "- tell me more\n"}],
    }
    assert export.diff.count("+    - tell me more") == 1  # the same words once
