""" "Save as test story": Rasa reads the written file, annotated intents are used, personal data is made up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from console.models import AuditEntry
from console.stories import Correction, build_story, story_file_name, story_steps, write_story
from console.tracker import TrackerEvent
from settings import PROJECT_ROOT
from tests.console.conftest import (
    DAY,
    INJECTION_SENDER,
    ROLE_USERS,
    START,
    XSS,
    Console,
    build_console,
    log_in,
    seed_tracker,
)

PHONE_SENDER = "+447700900456"  # WhatsApp senders are phone numbers: never in a file name
PHONE_TEXT = "my name is Tom Baker, ring +44 7700 900456 or tom@baker.example about SO-987654 [x](product)"


def _span(entity: str, value: str) -> dict[str, Any]:
    start = PHONE_TEXT.index(value)
    return {"entity": entity, "value": value, "start": start, "end": start + len(value)}


MORE_CONVERSATIONS: list[dict[str, Any]] = [
    {
        "sender": PHONE_SENDER,
        "channel": "twilio",
        "start": START + 2 * DAY,
        "turns": [
            {
                "user": PHONE_TEXT,
                "intent": "order_status",
                "confidence": 0.91,
                "entities": [_span("email", "tom@baker.example"), _span("order_id", "SO-987654")],
            },
            {"action": "action_order_status", "policy": "RulePolicy", "confidence": 1.0},
            {"bot": "Tom, order SO-987654 is on its way."},
            {"user": "/affirm", "intent": "affirm"},
            {"action": "utter_you_are_welcome", "policy": "RulePolicy", "confidence": 1.0},
        ],
    },
    {  # the assistant spoke, the customer never did
        "sender": "erin-silent",
        "channel": "socketio",
        "start": START + 3 * DAY,
        "turns": [{"action": "action_greet", "policy": "RulePolicy", "confidence": 1.0}, {"bot": "Hello!"}],
    },
]
PERSONAL = ("jane.doe@example.com", "SO-123456", "Jane", "Tom", "Baker", "7700", "tom@baker", "SO-987654")


@pytest.fixture(scope="module")
def story_tracker(tmp_path_factory: pytest.TempPathFactory, tracker_template: Path) -> Path:
    """The console's seeded tracker plus a conversation full of personal data and a silent one."""
    path = tmp_path_factory.mktemp("story-tracker") / "tracker.db"
    shutil.copyfile(tracker_template, path)
    seed_tracker({"db": str(path)}, MORE_CONVERSATIONS)
    return path


@pytest.fixture
def story_console(tmp_path: Path, story_tracker: Path) -> Iterator[Console]:
    yield from build_console(f"sqlite:///{tmp_path / 'shop.db'}", tmp_path, story_tracker)


def _annotator(console: Console) -> tuple[TestClient, str]:
    client = console.client()
    return client, log_in(client, ROLE_USERS["annotator"])


def _save(client: TestClient, csrf: str, sender_id: str) -> Any:
    return client.post(f"/stories/{quote(sender_id, safe='')}", data={"csrf_token": csrf})


def rasa_read(paths: list[Path], domain: Path = PROJECT_ROOT / "domain.yml") -> dict[str, Any]:
    """What Rasa's YAML story reader makes of these files (tests/console/rasa_story_check.py, Rasa runtime)."""
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "exec", "rasa", "python", "tests/console/rasa_story_check.py",
         str(domain), *map(str, paths)],
        text=True, capture_output=True, cwd=PROJECT_ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def _event(event_id: int, kind: str, **data: Any) -> TrackerEvent:
    return TrackerEvent(event_id, "s", kind, START + event_id, {"event": kind, **data})


def _user(event_id: int, text: str, intent: str) -> TrackerEvent:
    return _event(event_id, "user", text=text, parse_data={"intent": {"name": intent, "confidence": 0.9}})


INFLUENTIAL = frozenset({"pending_confirmation"})  # the domain's only slot that influences the conversation
# a form, a slot that matters and one that does not, a two-stage fallback's rewind and an undone action
FORM_EVENTS = [
    _user(1, "I want to return my order", "return_item"),
    _event(2, "action", name="return_form"),
    _event(3, "active_loop", name="return_form"),
    _event(4, "slot", name="return_order", value="SO-555555"),
    _event(5, "slot", name="pending_confirmation", value="return for jane.doe@example.com"),
    _event(6, "active_loop", name=None),
    _user(7, "blah qwzx", "nlu_fallback"),
    _event(8, "action", name="action_two_stage_fallback"),
    _event(9, "rewind"),
    _user(10, "thanks a lot", "thank"),
    _event(11, "action", name="utter_goodbye"),
    _event(12, "undo"),
    _event(13, "action", name="utter_you_are_welcome"),
]


def test_a_saved_story_is_read_by_rasa_with_annotated_intents_and_made_up_personal_data(
    story_console: Console,
) -> None:
    client, csrf = _annotator(story_console)
    folder = story_console.state.config.test_stories_dir
    late = next(
        e.id for e in story_console.state.tracker.conversation("alice-web") if e.data.get("text", "").startswith("this")
    )
    annotated = client.post(
        f"/nlu/annotate/{late}",
        data={"verdict": "approved", "intent": "complaint", "example": "my [boots](product) are late, useless!!!",
              "csrf_token": csrf},
    )  # fmt: skip
    assert annotated.status_code == 303

    saved = _save(client, csrf, "alice-web")
    assert saved.status_code == 200, saved.text
    (alice_file,) = folder.iterdir()
    assert alice_file.name == story_file_name("alice-web", dt.datetime(2026, 11, 20))
    assert alice_file.name.startswith("test_console_20261120_") and alice_file.suffix == ".yml"
    written = alice_file.read_text()
    assert 'id="story-yaml"' in saved.text and "my [boots](product) are late, useless!!!" in saved.text
    assert "1 with the intent an annotator corrected" in saved.text
    assert all(value not in written for value in PERSONAL), written
    with story_console.state.db.transaction() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "save_test_story")).all()
        assert (entry.actor, entry.target, entry.detail) == ("annotator@example.com", "alice-web", alice_file.name)

    assert _save(client, csrf, PHONE_SENDER).status_code == 200
    assert _save(client, csrf, "bob-rest").status_code == 200
    files = sorted(folder.iterdir())
    assert len(files) == 3 and not any("7700" in f.name for f in files)
    phone_file = folder / story_file_name(PHONE_SENDER, dt.datetime(2026, 11, 22))
    bob_file = folder / story_file_name("bob-rest", dt.datetime(2026, 11, 25))
    assert all(value not in phone_file.read_text() for value in PERSONAL), phone_file.read_text()
    form_story = build_story("form", dt.datetime(2026, 11, 1), "rest", FORM_EVENTS, {}, INFLUENTIAL)
    form_file = write_story(folder, form_story)

    report = rasa_read([*files, form_file])
    for path in (*files, form_file):
        assert report[str(path)]["is_test_stories_file"] is True
        assert report[str(path)]["warnings"] == [], report[str(path)]["warnings"]
    (alice,) = report[str(alice_file)]["stories"]
    assert alice["events"] == [
        {"user": "Hi, my email is jane@example.com and my order is SO-100001", "intent": "order_status",
         "entities": [["email", "jane@example.com"], ["order_id", "SO-100001"]]},
        {"action": "action_order_status"},
        {"user": "my boots are late, useless!!!", "intent": "complaint", "entities": [["product", "boots"]]},
        {"action": "action_delivery_problem"},
    ]  # fmt: skip
    (phone,) = report[str(phone_file)]["stories"]
    assert phone["events"] == [
        {"user": "my name is Alex, ring +1 555 0100 or jane@example.com about SO-100001 (x)(product)",
         "intent": "order_status", "entities": [["email", "jane@example.com"], ["order_id", "SO-100001"]]},
        {"action": "action_order_status"},
        {"user": None, "intent": "affirm", "entities": []},  # a button's payload: the intent alone
        {"action": "utter_you_are_welcome"},
    ]  # fmt: skip
    (bob,) = report[str(bob_file)]["stories"]
    assert bob["events"][0] == {"user": XSS, "intent": "invoice", "entities": []}
    (form,) = report[str(form_file)]["stories"]
    assert form["events"] == [
        {"user": "I want to return my order", "intent": "return_item", "entities": []},
        {"action": "return_form"},
        {"active_loop": "return_form"},
        {"slot": "pending_confirmation", "value": "return for jane@example.com"},
        {"active_loop": None},
        {"user": "thanks a lot", "intent": "thank", "entities": []},
        {"action": "utter_you_are_welcome"},
    ]


def test_bad_saves_are_refused_clearly_and_write_nothing(story_console: Console) -> None:
    client, csrf = _annotator(story_console)
    folder = story_console.state.config.test_stories_dir
    assert _save(client, csrf, "nobody-here").status_code == 404
    silent = _save(client, csrf, "erin-silent")
    assert silent.status_code == 400 and "no customer messages" in silent.text
    assert list(folder.iterdir()) == []

    # a hostile sender id gives a plain file name inside the folder, nothing anywhere else
    assert _save(client, csrf, INJECTION_SENDER).status_code == 200
    (hostile,) = folder.iterdir()
    assert hostile.name == story_file_name(INJECTION_SENDER, dt.datetime(2026, 11, 26))
    assert [p for p in folder.parent.rglob("*") if p.name.endswith(".yml") and "console" in p.name] == [hostile]

    # saved once: a second save never overwrites the file, even after the conversation changed
    before = hostile.read_text()
    again = _save(client, csrf, INJECTION_SENDER)
    assert again.status_code == 409 and "already saved" in again.text and hostile.name in again.text
    assert hostile.read_text() == before and len(list(folder.iterdir())) == 1

    config = story_console.state.config
    story_console.state.config = dataclasses.replace(config, test_stories_dir=folder / "missing")
    missing = _save(client, csrf, "alice-web")
    assert missing.status_code == 409 and "does not exist" in missing.text
    (folder / "a-file").write_text("")
    story_console.state.config = dataclasses.replace(config, test_stories_dir=folder / "a-file")
    assert _save(client, csrf, "alice-web").status_code == 409
    story_console.state.config = config
    with story_console.state.db.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "save_test_story")).all()
        assert [e.target for e in entries] == [INJECTION_SENDER]  # refused saves leave no audit entry
    assert sorted(p.name for p in folder.iterdir()) == sorted([hostile.name, "a-file"])  # no temporary file left


def test_the_transcript_offers_the_button_to_admins_and_annotators_only(story_console: Console) -> None:
    for role, shown in (("admin", True), ("annotator", True), ("agent", False)):
        client = story_console.client()
        log_in(client, ROLE_USERS[role])
        page = client.get("/conversations/alice-web").text
        assert ('id="save-story-form"' in page) is shown, role
        assert ('action="/stories/alice-web"' in page) is shown, role


def test_steps_follow_the_trackers_rewind_and_undo_and_keep_only_slots_that_matter() -> None:
    steps = story_steps(FORM_EVENTS, {}, INFLUENTIAL)
    assert [next(iter(s)) for s in steps] == [
        "user", "action", "active_loop", "slot_was_set", "active_loop", "user", "action"
    ]  # fmt: skip
    assert steps[3] == {"slot_was_set": [{"pending_confirmation": "return for jane@example.com"}]}
    corrected = story_steps(FORM_EVENTS[:1], {1: Correction("exchange", "swap [SO-123456](order_id) please")}, set())
    assert corrected == [{"user": "swap [SO-100001](order_id) please\n", "intent": "exchange"}]
    hostile = [_user(1, "hi", "greet; rm -rf"), _event(2, "action", name="../../etc")]
    assert story_steps(hostile, {}, INFLUENTIAL) == [{"user": "hi\n"}]  # names Rasa never writes are left out
