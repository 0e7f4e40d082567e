"""The web widget's channel: Rasa's socket.io connector with the checks Rasa 3.6 leaves out.

Rasa 3.6's `socketio` channel accepts any page's connection (it turns the origin check off), lets the
browser name the session it joins (so presenting someone else's session id shows you their replies)
and executes whatever `/intent{...}` a customer types. This channel, named in credentials.yml as
`bot.channels.web.ShopWebInput`, keeps Rasa's events and payloads (the widget and the e2e tests
talk to it as to Rasa's) but:

- refuses a connection whose `Origin` is not one of the shop's pages (SHOP_ALLOWED_ORIGINS);
- refuses a connection without a valid session token (widget/session_token.py, issued by the
  widget server), and joins the socket to the token's session only: a session id the client sends
  in `session_request` or `user_uttered` is ignored;
- refuses messages that are too long, and messages over the rate limit per session and per IP:
  the client gets a `shop_error` event, nothing is processed, and the first refusal of a streak is
  logged;
- passes a `/...` text through only when it is exactly the payload of a button the bot sent to
  this session; any other leading slash is dropped, so a typed command is read as words;
- takes only `customer_token` (store/identity.py) from the client's metadata.

Everything refused is logged once with its reason and never raises out of a handler.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer, packet

from settings import load_settings
from widget.rate_limit import RateLimit
from widget.session_token import InvalidSessionToken, read_session_token

logger = logging.getLogger(__name__)

ERROR_EVENT = "shop_error"
METADATA_KEYS = {"customer_token": 1024}  # what a browser may pass on, and how long it may be
BUTTONS_KEPT_PER_SESSION = 64
SESSIONS_TRACKED = 20_000
MAX_FRAME_BYTES = 64 * 1024  # a websocket frame beyond this closes the connection (Sanic's own limit is 1 MiB)
INVISIBLE = ("Cc", "Cf", "Cs", "Co", "Cn")


def visible_text(text: str) -> str:
    """The text as the NLU's input guard will see it: NFC, invisible characters dropped, trimmed."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) not in INVISIBLE).strip()


class OfferedButtons:
    """The button payloads the bot sent to each session lately: only these may arrive as `/...`."""

    def __init__(self, per_session: int = BUTTONS_KEPT_PER_SESSION, sessions: int = SESSIONS_TRACKED) -> None:
        self._per_session = per_session
        self._sessions = sessions
        self._payloads: OrderedDict[str, deque[str]] = OrderedDict()

    def remember(self, session_id: str, payloads: Iterable[object]) -> None:
        """Record the payloads of buttons just sent to a session (the oldest sessions are forgotten first)."""
        kept = self._payloads.pop(session_id, None) or deque(maxlen=self._per_session)
        kept.extend(p for p in payloads if isinstance(p, str) and p.startswith("/"))
        self._payloads[session_id] = kept
        while len(self._payloads) > self._sessions:
            self._payloads.popitem(last=False)

    def offered(self, session_id: str, payload: str) -> bool:
        """True when the bot sent this exact payload as a button to this session."""
        return payload in self._payloads.get(session_id, ())


def as_typed_text(text: str, session_id: str, buttons: OfferedButtons) -> str:
    """What the NLU gets: a button's payload as it is, any other `/command` as the words it contains."""
    if buttons.offered(session_id, text):
        return text
    visible = visible_text(text)
    if visible.startswith("/"):
        return visible.lstrip("/").strip()
    return text


def card_button_payloads(data: object) -> list[object]:
    """The payloads of the buttons on product cards (actions/products.py's custom payload)."""
    if not isinstance(data, dict) or not isinstance(data.get("products"), list):
        return []
    return [
        button.get("payload")
        for product in data["products"]
        if isinstance(product, dict) and isinstance(product.get("buttons"), list)
        for button in product["buttons"]
        if isinstance(button, dict)
    ]


@dataclass
class Connection:
    """A connected socket: the session its token joins it to, where it comes from."""

    session_id: str
    ip: str
    asked_for_other_session: bool = field(default=False)


def client_ip(environ: dict[str, Any]) -> str:
    """The peer's address; behind a proxy, Sanic's forwarded address when Sanic is told to trust the proxy."""
    request = environ.get("sanic.request")
    if request is None:
        return "unknown"
    return str(getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown")


def short(session_id: str) -> str:
    """A session id as logs show it: enough to find the conversation, not enough to join it."""
    return session_id[:8]


class OneLineErrors(logging.Filter):
    """Turns Engine.IO's tracebacks for a client's bad frame into one line with the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg = f"web chat: {record.getMessage()}: {type(error).__name__}: {error}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def engineio_logger() -> logging.Logger:
    """The logger Engine.IO reports to: warnings and errors only, one line each."""
    engine_logger = logging.getLogger(f"{__name__}.engineio")
    engine_logger.setLevel(logging.WARNING)
    if not any(isinstance(f, OneLineErrors) for f in engine_logger.filters):
        engine_logger.addFilter(OneLineErrors())
    return engine_logger


class GuardedServer(AsyncServer):
    """python-socketio's server, which drops malformed packets instead of failing on them.

    python-socketio 5.8 (pinned by Rasa 3.6) decodes a packet inside the Engine.IO message handler
    and dispatches events from background tasks: broken JSON, a non-list event or a binary frame
    each end in a logged traceback there. Here every packet is decoded and checked first; a bad
    one is dropped and logged once per connection. Binary packets are not used by the widget.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._reported: set[str] = set()

    def _report(self, eio_sid: str, reason: str) -> None:
        if eio_sid not in self._reported:
            self._reported.add(eio_sid)
            logger.warning(
                "web chat: packet dropped: %s (further bad packets of this connection are not logged)", reason
            )

    async def _handle_eio_message(self, eio_sid: str, data: object) -> None:
        if not isinstance(data, str):
            self._report(eio_sid, "binary packets are not accepted")
            return
        try:
            decoded = self.packet_class(encoded_packet=data)
        except (ValueError, TypeError, IndexError, KeyError) as error:
            self._report(eio_sid, f"malformed packet ({type(error).__name__})")
            return
        if decoded.packet_type in (packet.BINARY_EVENT, packet.BINARY_ACK, packet.CONNECT_ERROR):
            self._report(eio_sid, "unexpected packet type")
            return
        if decoded.packet_type == packet.EVENT and not (
            isinstance(decoded.data, list) and decoded.data and isinstance(decoded.data[0], str)
        ):
            self._report(eio_sid, "an event must be a list starting with its name")
            return
        if decoded.packet_type == packet.CONNECT and decoded.data is not None and not isinstance(decoded.data, dict):
            self._report(eio_sid, "connect data must be an object")
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except ValueError as error:
            self._report(eio_sid, str(error))

    async def _handle_eio_disconnect(self, eio_sid: str) -> None:
        self._reported.discard(eio_sid)
        await super()._handle_eio_disconnect(eio_sid)


class ShopWebOutput(SocketIOOutput):
    """Rasa's socket.io output, which also remembers the buttons it sends to each session."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, buttons: OfferedButtons) -> None:
        super().__init__(sio, bot_message_evt)
        self.buttons = buttons

    @classmethod
    def name(cls) -> str:
        """The channel's name in the tracker: the store maps `socketio` to its `web` channel."""
        return "socketio"

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Remember the buttons' payloads, then send as Rasa does (quick replies on the last text)."""
        self.buttons.remember(recipient_id, [button.get("payload") for button in buttons])
        await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Send an action's custom payload (`{"data": {...}}`) to the session's room only.

        Rasa's own version passes the payload's keys to `emit` as arguments; we send its `data` and
        nothing can redirect it to another room."""
        data = json_message.get("data", json_message) if isinstance(json_message, dict) else json_message
        self.buttons.remember(recipient_id, card_button_payloads(data))
        await self.sio.emit(self.bot_message_evt, data, room=recipient_id)


@dataclass(frozen=True)
class WebChannelLimits:
    """The channel's limits, from credentials.yml."""

    max_message_chars: int = 2000
    session_messages_per_minute: int = 20
    ip_messages_per_minute: int = 60


class ShopWebInput(SocketIOInput):
    """The socket.io channel of the web widget, with origin, token, size, rate and command checks."""

    @classmethod
    def name(cls) -> str:
        """Rasa's name, so trackers, the store and the widget see the channel they know."""
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ShopWebInput:
        """The channel from credentials.yml; origins and the token secret come from the shop's settings."""
        credentials = credentials or {}
        settings = load_settings()
        limits = WebChannelLimits(
            max_message_chars=int(credentials.get("max_message_chars", WebChannelLimits.max_message_chars)),
            session_messages_per_minute=int(
                credentials.get("session_messages_per_minute", WebChannelLimits.session_messages_per_minute)
            ),
            ip_messages_per_minute=int(
                credentials.get("ip_messages_per_minute", WebChannelLimits.ip_messages_per_minute)
            ),
        )
        return cls(
            allowed_origins=settings.allowed_origins(),
            token_secret=settings.secret_for_widget(),
            limits=limits,
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
        )

    def __init__(
        self,
        allowed_origins: Iterable[str],
        token_secret: str,
        limits: WebChannelLimits | None = None,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        socketio_path: str = "/socket.io",
    ) -> None:
        super().__init__(
            user_message_evt=user_message_evt,
            bot_message_evt=bot_message_evt,
            namespace=None,
            session_persistence=True,  # replies go to the session's room, so every tab of it sees them
            socketio_path=socketio_path,
        )
        self.allowed_origins = frozenset(allowed_origins)
        self.token_secret = token_secret
        self.limits = limits or WebChannelLimits()
        self.buttons = OfferedButtons()
        self.connections: dict[str, Connection] = {}
        # a person types a few messages in a row at most; a page of several tabs shares one address
        self.session_limit = RateLimit(self.limits.session_messages_per_minute, burst=10)
        self.ip_limit = RateLimit(self.limits.ip_messages_per_minute, burst=30)

    def get_output_channel(self) -> OutputChannel | None:
        """The output the HTTP API uses to reach a conversation (e.g. a person from support writing)."""
        if self.sio is None:
            return None
        return ShopWebOutput(self.sio, self.bot_message_evt, self.buttons)

    async def _refuse(self, sid: str, code: str, message: str) -> None:
        await self.sio.emit(ERROR_EVENT, {"code": code, "message": message}, room=sid)

    def _accept_connection(self, sid: str, environ: dict[str, Any], auth: object) -> Connection:
        """The connection's session, or SocketRefused (logged with its reason)."""
        ip = client_ip(environ)
        origin = environ.get("HTTP_ORIGIN")
        if origin not in self.allowed_origins:
            logger.warning("web chat: connection from %s refused: origin not allowed (%r)", ip, origin)
            raise socketio.exceptions.ConnectionRefusedError("origin not allowed")
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            claims = read_session_token(token, self.token_secret)
        except InvalidSessionToken as error:
            logger.warning("web chat: connection from %s refused: %s", ip, error)
            raise socketio.exceptions.ConnectionRefusedError(f"session token refused: {error}") from None
        return Connection(session_id=claims.session_id, ip=ip)

    def _message_text(self, data: object) -> tuple[str | None, str]:
        """(the message's text, why it is refused when the text is None)."""
        if not isinstance(data, dict):
            return None, "a message must be an object"
        text = data.get("message")
        if not isinstance(text, str):
            return None, "a message needs a text"
        if len(text) > self.limits.max_message_chars:
            return None, f"messages are limited to {self.limits.max_message_chars} characters"
        return text, ""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and its handlers (replacing Rasa's, which trust the client)."""
        # websocket only: no long-polling requests to secure or to allow across origins
        sio = GuardedServer(
            async_mode="sanic", cors_allowed_origins=[], transports=["websocket"], engineio_logger=engineio_logger()
        )
        self.sio = sio
        channel = self

        async def socketio_endpoint(request: Request) -> HTTPResponse:
            # Engine.IO answers None once a websocket has closed, which Sanic reports as an error
            try:
                answer = await sio.handle_request(request)
            except ValueError as error:  # e.g. an empty frame, which ends the connection
                logger.warning("web chat: connection from %s closed: %s", request.ip, error)
                return response.empty()
            return answer if answer is not None else response.empty()

        class WebSocketBlueprint(Blueprint):
            def register(self, app: Any, options: dict[str, Any]) -> None:
                app.config.WEBSOCKET_MAX_SIZE = MAX_FRAME_BYTES
                app.add_route(socketio_endpoint, f"/{channel.socketio_path.strip('/')}/", methods=["GET", "OPTIONS"])
                app.enable_websocket()
                super().register(app, options)  # type: ignore[no-untyped-call]

        blueprint = WebSocketBlueprint("socketio_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def connect(sid: str, environ: dict[str, Any], auth: object = None) -> bool:
            connection = channel._accept_connection(sid, environ, auth)
            channel.connections[sid] = connection
            sio.enter_room(sid, connection.session_id)
            logger.debug("web chat: socket joined session %s", short(connection.session_id))
            return True

        async def disconnect(sid: str) -> None:
            channel.connections.pop(sid, None)

        async def session_request(sid: str, *args: object) -> None:
            data = args[0] if args else None
            connection = channel.connections.get(sid)
            if connection is None:
                return
            asked = data.get("session_id") if isinstance(data, dict) else None
            if asked and asked != connection.session_id and not connection.asked_for_other_session:
                connection.asked_for_other_session = True
                logger.warning(
                    "web chat: session %s asked to join another session id; ignored", short(connection.session_id)
                )
            await sio.emit("session_confirm", connection.session_id, room=sid)

        async def handle_message(sid: str, *args: object) -> None:
            data = args[0] if args else None
            connection = channel.connections.get(sid)
            if connection is None:
                return
            session = connection.session_id
            text, problem = channel._message_text(data)
            if text is None:
                logger.warning("web chat: message in session %s refused: %s", short(session), problem)
                await channel._refuse(sid, "bad_message", problem)
                return
            for limit, key, scope in (
                (channel.session_limit, session, "this chat"),
                (channel.ip_limit, connection.ip, "your address"),
            ):
                allowed, first = limit.allow(key)
                if not allowed:
                    if first:
                        logger.warning(
                            "web chat: messages in session %s refused: rate limit of %s", short(session), scope
                        )
                    await channel._refuse(sid, "rate_limited", f"Too many messages from {scope}; wait a moment.")
                    return
            metadata = {}
            sent = data.get("metadata") if isinstance(data, dict) else None
            if isinstance(sent, dict):
                metadata = {
                    key: value
                    for key, value in sent.items()
                    if key in METADATA_KEYS and isinstance(value, str) and len(value) <= METADATA_KEYS[key]
                }
            message = UserMessage(
                as_typed_text(text, session, channel.buttons),
                ShopWebOutput(sio, channel.bot_message_evt, channel.buttons),
                session,
                input_channel=channel.name(),
                metadata=metadata,
            )
            await on_new_message(message)

        blueprint.add_route(health, "/", methods=["GET"])
        sio.on("connect", handler=connect)
        sio.on("disconnect", handler=disconnect)
        sio.on("session_request", handler=session_request)
        sio.on(self.user_message_evt, handler=handle_message)
        return blueprint
