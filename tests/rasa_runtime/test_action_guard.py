"""The action guard: with the action server down, slow or failing, the customer gets an apology and
the offer of a person instead of silence; rejections and good answers pass through untouched.

Real Rasa RemoteAction calls against real local HTTP servers (or a closed port)."""

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import action_guard

TIMEOUT = 0.5
action_guard.install(timeout=TIMEOUT)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def call(name: str, url: str, events: list[Event] | None = None) -> list[Event]:
    tracker = DialogueStateTracker.from_events("conversation-7", events or [UserUttered("where is my order")])
    action = RemoteAction(name, EndpointConfig(url))
    return await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, Domain.empty())


async def with_server(handler: Callable[[web.Request], Awaitable[web.StreamResponse]], name: str,
                      events: list[Event] | None = None) -> list[Event]:  # fmt: skip
    app = web.Application()
    app.router.add_post("/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = closed_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        return await call(name, f"http://127.0.0.1:{port}/webhook", events)
    finally:
        await runner.cleanup()


def is_apology(event: Event) -> bool:
    return (
        isinstance(event, BotUttered)
        and event.text == action_guard.APOLOGY
        and event.data["buttons"] == [action_guard.PERSON_BUTTON]
    )


def test_an_action_server_that_is_down_gets_the_customer_an_apology(caplog: pytest.LogCaptureFixture) -> None:
    (event,) = asyncio.run(call("action_order_status", f"http://127.0.0.1:{closed_port()}/webhook"))
    assert is_apology(event)
    assert "custom action action_order_status failed for conversation conversation-7" in caplog.text


def test_a_slow_action_server_is_given_up_on_after_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    async def never_answers(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.json_response({})

    (event,) = asyncio.run(with_server(never_answers, "action_search_products"))
    assert is_apology(event)
    assert f"no answer within {TIMEOUT:g} s" in caplog.text


def test_an_action_that_crashes_on_the_server_gets_an_apology() -> None:
    async def crashes(request: web.Request) -> web.Response:
        return web.Response(status=500, text="Traceback ...")

    (event,) = asyncio.run(with_server(crashes, "action_handoff"))
    assert is_apology(event)


def test_good_answers_and_rejections_pass_through() -> None:
    async def answers(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        return web.json_response({"events": [], "responses": [{"text": f"ran {body['next_action']}"}]})

    (event,) = asyncio.run(with_server(answers, "action_greet"))
    assert isinstance(event, BotUttered) and event.text == "ran action_greet"

    async def rejects(request: web.Request) -> web.Response:
        return web.Response(status=400, text=json.dumps({"action_name": "validate_x", "error": "no"}))

    with pytest.raises(ActionExecutionRejection):
        asyncio.run(with_server(rejects, "validate_return_form"))


def test_a_failed_form_validation_unsets_the_answers_it_should_have_checked() -> None:
    events: list[Event] = [UserUttered("SO-100001"), SlotSet("requested_slot", "return_order"),
                           SlotSet("return_order", "SO-100001")]  # fmt: skip
    result = asyncio.run(call("validate_return_form", f"http://127.0.0.1:{closed_port()}/webhook", events))
    assert is_apology(result[0])
    assert result[1:] == [SlotSet("return_order", None)]


@pytest.mark.parametrize(("raw", "seconds"), [("", 10.0), ("2.5", 2.5), ("soon", 10.0), ("-1", 10.0)])
def test_the_timeout_comes_from_the_environment(raw: str, seconds: float) -> None:
    assert action_guard.timeout_seconds({"SHOP_ACTION_TIMEOUT": raw}) == seconds
