// The shop's chat widget. widget/serve.py serves it as /shop-chat.js, bundled after the socket.io
// client, which it reaches as `io`. A shop page embeds it with a config object and one script tag:
//
//   <script>window.ShopChatConfig = { title: "Shop assistant", customerToken: "<signed, optional>" };</script>
//   <script src="https://chat.example.com/shop-chat.js" async></script>
//
// Config (all optional): server (where shop-chat.js comes from, by default), rasaUrl (else the
// server's /config.json), title, customerToken (a logged-in customer, signed by the shop's site:
// store/identity.py), open (start opened), storageKey (prefix of what it keeps in localStorage).
//
// The session: the widget server issues a signed session token (POST /api/session); the widget
// keeps it in localStorage, renews it on every page load and presents it when it connects; the
// server-side channel (bot/channels/web.py) joins the socket to that session only. The transcript
// is kept in localStorage under the session's id, so a reload shows the conversation so far.
/* global io */


var script = document.currentScript;
var config = Object.assign({}, window.ShopChatConfig || {});
var server = (config.server || (script && script.src ? new URL(script.src).origin : location.origin)).replace(/\/$/, "");
var key = config.storageKey || "shop-chat";
var title = config.title || "Shop assistant";
var MAX_HISTORY = 200;
var TYPING_TIMEOUT_MS = 20000;

var state = {
  token: null,
  sessionId: null,
  socket: null,
  confirmed: false,
  pending: [],
  history: [],
  unread: 0,
  open: false,
  typingTimer: null,
  refreshedAt: 0,
  handoff: null,
};

// ---- storage: a browser that refuses localStorage still chats, it just forgets on reload ----
function load(name) {
  try { return JSON.parse(localStorage.getItem(key + ":" + name)); } catch (e) { return null; }
}
function save(name, value) {
  try {
    if (value === null) localStorage.removeItem(key + ":" + name);
    else localStorage.setItem(key + ":" + name, JSON.stringify(value));
  } catch (e) { /* storage full or refused */ }
}

// ---- the DOM ----
function el(tag, attributes, text) {
  var node = document.createElement(tag);
  Object.keys(attributes || {}).forEach(function (name) {
    var value = attributes[name];
    if (value === false || value === null || value === undefined) return;
    if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  });
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function hidden(text) { return el("span", { className: "shop-chat__sr-only" }, text); }

var root = el("div", { className: "shop-chat", "data-shop-chat": true });
var launcher = el("button", { type: "button", className: "shop-chat__launcher", "aria-expanded": "false", "aria-controls": "shop-chat-panel" });
var launcherText = el("span", {}, "Chat with us");
var badge = el("span", { className: "shop-chat__badge", "aria-hidden": "true", hidden: true, "data-unread": true });
launcher.append(launcherText, badge);

var panel = el("section", { id: "shop-chat-panel", className: "shop-chat__panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "shop-chat-title", hidden: true });
var header = el("header", { className: "shop-chat__header" });
var heading = el("div", { className: "shop-chat__heading" });
heading.append(el("h2", { id: "shop-chat-title", className: "shop-chat__title" }, title));
var status = el("p", { className: "shop-chat__status", "data-status": true }, "connecting…");
heading.append(status);
var endButton = el("button", { type: "button", className: "shop-chat__icon", "data-end": true }, "End chat");
var closeButton = el("button", { type: "button", className: "shop-chat__icon", "aria-label": "Minimise chat", "data-minimise": true }, "–");
header.append(heading, endButton, closeButton);

var log = el("ol", { className: "shop-chat__log", role: "log", "aria-live": "polite", "aria-label": "Conversation", "data-log": true, tabindex: "0" });
var typing = el("p", { className: "shop-chat__typing", role: "status", "data-typing": true });
var notice = el("p", { className: "shop-chat__notice", role: "alert", "data-notice": true });

var form = el("form", { className: "shop-chat__form", "data-form": true });
var inputId = "shop-chat-input";
var input = el("input", { id: inputId, className: "shop-chat__input", name: "message", autocomplete: "off", placeholder: "Type a message…", maxlength: "2000", "data-input": true });
var sendButton = el("button", { type: "submit", className: "shop-chat__send" }, "Send");
form.append(el("label", { for: inputId, className: "shop-chat__sr-only" }, "Your message"), input, sendButton);

var csat = buildCsat();
panel.append(header, log, typing, notice, csat, form);
root.append(panel, launcher);

// ---- rendering: every message goes through here, live or replayed from the history ----
function scrollDown() { log.scrollTop = log.scrollHeight; }

function addItem(who, node) {
  var item = el("li", { className: "shop-chat__item shop-chat__item--" + who });
  item.appendChild(node);
  log.appendChild(item);
  scrollDown();
  return item;
}

function bubble(who, text) {
  var node = el("p", { className: "shop-chat__msg shop-chat__msg--" + who });
  node.append(hidden(who === "user" ? "You: " : who === "bot" ? "Assistant: " : ""), document.createTextNode(text));
  return addItem(who, node);
}

function quickReplies(buttons, live) {
  var group = el("div", { className: "shop-chat__quick", role: "group", "aria-label": "Suggested answers" });
  buttons.forEach(function (b) {
    var button = el("button", { type: "button", className: "shop-chat__chip", disabled: !live }, b.title);
    button.addEventListener("click", function () {
      disableQuickReplies();
      choose(b);
    });
    group.appendChild(button);
  });
  addItem("bot", group);
}

function disableQuickReplies() {
  log.querySelectorAll(".shop-chat__quick button").forEach(function (b) { b.disabled = true; });
}

// A button sends its payload; the conversation shows its title as what the customer said.
function choose(button) {
  var payload = button.payload || button.title;
  record({ who: "user", text: button.title });
  bubble("user", button.title);
  send(payload);
  input.focus();
}

function image(src, alt) {
  var node = el("img", { className: "shop-chat__image", src: src, alt: alt || "Image from the assistant", loading: "lazy" });
  addItem("bot", node);
}

// Product cards (actions/products.py): a carousel that scrolls sideways; arrow keys move by one card.
function carousel(products) {
  var strip = el("div", { className: "shop-chat__carousel", role: "region", "aria-roledescription": "carousel", "aria-label": "Products, use the arrow keys to scroll", tabindex: "0", "data-carousel": true });
  products.forEach(function (p, index) {
    var name = String(p.title || "Product");
    var card = el("article", { className: "shop-chat__card", role: "group", "aria-roledescription": "slide", "aria-label": (index + 1) + " of " + products.length + ": " + name, "data-product-id": p.id });
    if (p.image) card.append(el("img", { className: "shop-chat__card-image", src: p.image, alt: "", loading: "lazy" }));
    var link = el("a", { className: "shop-chat__card-title", href: safeUrl(p.url), target: "_blank", rel: "noopener" }, name);
    card.append(link);
    var facts = [p.price_text, p.rating ? "★ " + Number(p.rating).toFixed(1) : null, p.in_stock === false ? "out of stock" : null];
    card.append(el("p", { className: "shop-chat__card-facts" }, facts.filter(Boolean).join(" · ")));
    if (p.reason) card.append(el("p", { className: "shop-chat__card-reason" }, p.reason));
    var actions = el("div", { className: "shop-chat__card-actions" });
    (Array.isArray(p.buttons) ? p.buttons : []).forEach(function (b) {
      var button = el("button", { type: "button", className: "shop-chat__chip", "aria-label": b.title + ": " + name }, b.title);
      button.addEventListener("click", function () { choose(b); });
      actions.append(button);
    });
    card.append(actions);
    strip.append(card);
  });
  strip.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    var cards = Array.prototype.slice.call(strip.children);
    var current = cards.findIndex(function (c) { return c.contains(document.activeElement); });
    var next = Math.max(0, Math.min(cards.length - 1, current + (event.key === "ArrowRight" ? 1 : -1)));
    var target = cards[next].querySelector("a, button");
    if (target) target.focus();
    cards[next].scrollIntoView({ block: "nearest", inline: "start" });
    event.preventDefault();
  });
  addItem("bot", strip);
}

function safeUrl(url) {
  try {
    var parsed = new URL(String(url), location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : "#";
  } catch (e) { return "#"; }
}

// Handoff: {"type": "handoff", "state": "waiting" | "agent" | "ended", "agent": "<name>"}
function handoff(data, live) {
  var text;
  if (data.state === "waiting") text = "Waiting for a person from support to join…";
  else if (data.state === "agent") text = "You are now chatting with " + (data.agent || "a colleague") + " from support";
  else if (data.state === "ended") text = "Back to the shop assistant";
  else return;
  state.handoff = data.state === "ended" ? null : data;
  bubble("system", text);
  showStatus();
}

function showStatus() {
  if (!state.confirmed) return;
  if (state.handoff && state.handoff.state === "agent") status.textContent = "with " + (state.handoff.agent || "support");
  else if (state.handoff) status.textContent = "waiting for support";
  else status.textContent = "online";
}

function renderBot(data, live) {
  if (!data || typeof data !== "object") return;
  if (typeof data.text === "string" && data.text) bubble("bot", data.text);
  var buttons = data.quick_replies || data.buttons;
  if (Array.isArray(buttons) && buttons.length) quickReplies(buttons, live);
  var attachment = data.attachment;
  if (attachment && attachment.type === "image" && attachment.payload && attachment.payload.src) image(safeUrl(attachment.payload.src));
  if (typeof data.image === "string") image(safeUrl(data.image));
  if (data.type === "product_cards" && Array.isArray(data.products)) carousel(data.products);
  else if (data.type === "handoff") handoff(data, live);
  else if (data.type === "chat_end" && live && !state.handoff) askForRating();  // the customer said goodbye
  else if (data.type === "add_to_cart" && live) {
    // The shop's page owns the basket: it listens for this event and adds the product.
    window.dispatchEvent(new CustomEvent("shop-chat:add-to-cart", { detail: { productId: data.product_id, url: data.url } }));
  }
}

function render(entry, live) {
  if (entry.who === "user") bubble("user", entry.text);
  else if (entry.who === "bot") renderBot(entry.data, live);
  else if (entry.who === "system") bubble("system", entry.text);
}

function record(entry) {
  state.history.push(entry);
  if (state.history.length > MAX_HISTORY) state.history.splice(0, state.history.length - MAX_HISTORY);
  save("history", { sessionId: state.sessionId, entries: state.history });
}

function replayHistory() {
  log.textContent = "";
  var kept = load("history");
  state.history = kept && kept.sessionId === state.sessionId && Array.isArray(kept.entries) ? kept.entries : [];
  state.history.forEach(function (entry, index) { render(entry, index === state.history.length - 1); });
}

// ---- typing indicator, unread badge, open and closed ----
function setTyping(on) {
  clearTimeout(state.typingTimer);
  typing.textContent = on ? "The assistant is typing…" : "";
  typing.classList.toggle("shop-chat__typing--on", on);
  if (on) state.typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
}

function setUnread(count) {
  state.unread = count;
  badge.textContent = String(count);
  badge.hidden = count === 0;
  launcher.setAttribute("aria-label", count ? "Chat with us, " + count + " unread message" + (count === 1 ? "" : "s") : "Chat with us");
}

function setOpen(open, focus) {
  state.open = open;
  panel.hidden = !open;
  launcher.setAttribute("aria-expanded", String(open));
  root.classList.toggle("shop-chat--open", open);
  save("open", open);
  if (open) {
    setUnread(0);
    scrollDown();
    if (focus) (csat.hidden ? input : csat.querySelector("input")).focus();
  } else if (focus) {
    launcher.focus();
  }
}

function setNotice(text) { notice.textContent = text || ""; }

// ---- the API of the widget server ----
function post(path, body) {
  return fetch(server + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "omit",
  }).then(function (answer) {
    return answer.json().catch(function () { return {}; }).then(function (json) { return { status: answer.status, body: json }; });
  });
}

function startSession(previousToken) {
  return post("/api/session", { token: previousToken || null }).then(function (answer) {
    if (answer.status !== 200 || !answer.body.token) throw new Error("no session: " + answer.status);
    state.token = answer.body.token;
    state.sessionId = answer.body.sessionId;
    save("token", state.token);
    var kept = load("history");
    if (!kept || kept.sessionId !== state.sessionId) save("history", { sessionId: state.sessionId, entries: [] });
  });
}

// ---- the socket ----
function connect(rasaUrl) {
  var socket = io(rasaUrl, { transports: ["websocket"], auth: function (cb) { cb({ token: state.token }); } });
  state.socket = socket;
  socket.on("connect", function () { socket.emit("session_request", {}); });
  socket.on("session_confirm", function () {
    state.confirmed = true;
    showStatus();
    state.pending.splice(0).forEach(send);
  });
  socket.on("bot_uttered", function (data) {
    setTyping(false);
    record({ who: "bot", data: data });
    renderBot(data, true);
    if (!state.open) setUnread(state.unread + 1);
  });
  socket.on("shop_error", function (error) {
    setTyping(false);
    setNotice(error && error.message ? error.message : "That message could not be sent.");
  });
  socket.on("disconnect", function () {
    state.confirmed = false;
    status.textContent = "reconnecting…";
  });
  socket.on("connect_error", function (error) {
    state.confirmed = false;
    status.textContent = "offline";
    // a refused token (expired, or the server's secret changed): ask for a new one, at most once a minute
    var refused = error && /session token refused/.test(error.message || "");
    if (refused && Date.now() - state.refreshedAt > 60000) {
      state.refreshedAt = Date.now();
      startSession(null).then(function () { replayHistory(); socket.connect(); });
    }
  });
}

function send(text) {
  if (!state.socket || !state.confirmed) { state.pending.push(text); return; }
  var packet = { message: text };
  if (config.customerToken) packet.metadata = { customer_token: String(config.customerToken) };
  setNotice("");
  setTyping(!state.handoff);  // during a handoff the assistant is paused: nobody is typing yet
  state.socket.emit("user_uttered", packet);
}

// ---- CSAT: asked when the customer ends the chat or says goodbye ----
function buildCsat() {
  var box = el("form", { className: "shop-chat__csat", hidden: true, "data-csat": true, "aria-labelledby": "shop-chat-csat-title" });
  var fieldset = el("fieldset", { className: "shop-chat__scale" });
  fieldset.append(el("legend", { id: "shop-chat-csat-title" }, "How satisfied are you with this chat?"));
  var labels = ["very unsatisfied", "unsatisfied", "neutral", "satisfied", "very satisfied"];
  labels.forEach(function (label, index) {
    var id = "shop-chat-score-" + (index + 1);
    var option = el("span", { className: "shop-chat__score" });
    option.append(
      el("input", { type: "radio", name: "score", id: id, value: String(index + 1), required: true }),
      el("label", { for: id, title: label }, String(index + 1)),
    );
    option.querySelector("label").append(hidden(" (" + label + ")"));
    fieldset.append(option);
  });
  box.append(fieldset);
  box.append(el("label", { for: "shop-chat-comment" }, "Anything to add? (optional)"));
  box.append(el("textarea", { id: "shop-chat-comment", name: "comment", maxlength: "1000", rows: "2" }));
  var buttons = el("div", { className: "shop-chat__csat-actions" });
  var skip = el("button", { type: "button", className: "shop-chat__chip", "data-skip": true }, "Skip");
  buttons.append(el("button", { type: "submit", className: "shop-chat__send" }, "Send rating"), skip);
  box.append(buttons);
  box.addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = box.querySelector("input[name=score]:checked");
    if (!chosen) return;
    var comment = box.querySelector("textarea").value.trim();
    post("/api/csat", { token: state.token, score: Number(chosen.value), comment: comment || null }).then(function (answer) {
      if (answer.status === 201 || answer.status === 409) finishChat("Thank you for your feedback!");
      else setNotice(answer.body.error || "Your rating could not be saved.");
    }).catch(function () { setNotice("Your rating could not be saved."); });
  });
  skip.addEventListener("click", function () { finishChat("Thanks for chatting with us."); });
  return box;
}

function askForRating() {
  csat.hidden = false;
  form.hidden = true;
  csat.querySelector("input").focus();
}

// After the rating the chat starts over: a new session, an empty transcript.
function finishChat(goodbye) {
  csat.reset();
  csat.hidden = true;
  form.hidden = false;
  if (state.socket) state.socket.disconnect();
  save("history", null);
  save("token", null);
  state.history = [];
  state.handoff = null;
  log.textContent = "";
  bubble("system", goodbye);
  startSession(null).then(function () {
    record({ who: "system", text: goodbye });
    state.socket.connect();
  }).catch(function () { status.textContent = "offline"; });
  input.focus();
}

// ---- wiring ----
launcher.addEventListener("click", function () { setOpen(!state.open, true); });
closeButton.addEventListener("click", function () { setOpen(false, true); });
endButton.addEventListener("click", askForRating);
panel.addEventListener("keydown", function (event) {
  if (event.key === "Escape") { setOpen(false, true); event.preventDefault(); }
});
form.addEventListener("submit", function (event) {
  event.preventDefault();
  var text = input.value.trim();
  if (!text) return;
  input.value = "";
  disableQuickReplies();
  record({ who: "user", text: text });
  bubble("user", text);
  send(text);
});

function stylesheet() {
  var link = el("link", { rel: "stylesheet", href: server + "/shop-chat.css" });
  document.head.appendChild(link);
}

function start() {
  stylesheet();
  document.body.appendChild(root);
  setUnread(0);
  var stored = load("token");
  var rasa = config.rasaUrl ? Promise.resolve(config.rasaUrl) : fetch(server + "/config.json").then(function (r) { return r.json(); }).then(function (c) { return c.rasaUrl; });
  startSession(stored).then(function () {
    replayHistory();
    setOpen(config.open === true || load("open") === true, false);
    return rasa;
  }).then(connect).catch(function () {
    status.textContent = "offline";
    setOpen(load("open") === true, false);
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
