// The shop's chat widget. It speaks the socket.io protocol (Engine.IO v4) over a plain WebSocket to
// Rasa's socketio channel, so the page needs no third-party script.
(function () {
  "use strict";
  var log = document.querySelector("[data-log]");
  var form = document.querySelector("[data-form]");
  var input = document.querySelector("[data-input]");
  var status = document.querySelector("[data-status]");
  var socket = null;
  var sessionId = localStorage.getItem("shop-chat-session") || null;
  var pending = [];
  // A logged-in customer: the shop's page signs a customer token (store/identity.py) and sets it on
  // the script tag, <script src="chat.js" data-customer-token="...">; it goes with every message.
  var script = document.currentScript;
  var customerToken = (script && script.dataset.customerToken) || null;

  function show(text, who) {
    var item = document.createElement("li");
    item.className = "chat__msg chat__msg--" + who;
    item.textContent = text;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function emit(event, data) {
    socket.send("42" + JSON.stringify([event, data]));
  }

  function onEvent(event, data) {
    if (event === "session_confirm") {
      sessionId = typeof data === "string" ? data : data.session_id;
      localStorage.setItem("shop-chat-session", sessionId);
      status.textContent = "online";
      pending.splice(0).forEach(send);
    } else if (event === "bot_uttered") {
      if (data.text) show(data.text, "bot");
      (data.quick_replies || data.buttons || []).forEach(function (b) { show("› " + b.title, "bot"); });
    }
  }

  function connect(rasaUrl) {
    var url = rasaUrl.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
    socket = new WebSocket(url);
    socket.onmessage = function (message) {
      var packet = String(message.data);
      if (packet[0] === "0") { socket.send("40"); return; }          // engine.io open -> join namespace
      if (packet === "2") { socket.send("3"); return; }               // ping -> pong
      if (packet.indexOf("40") === 0) { emit("session_request", { session_id: sessionId }); return; }
      if (packet.indexOf("42") === 0) {
        var payload = JSON.parse(packet.slice(2));
        onEvent(payload[0], payload[1]);
      }
    };
    socket.onclose = function () {
      status.textContent = "reconnecting…";
      setTimeout(function () { connect(rasaUrl); }, 2000);
    };
  }

  function send(text) {
    if (!socket || socket.readyState !== WebSocket.OPEN || !sessionId) { pending.push(text); return; }
    var packet = { message: text, session_id: sessionId };
    if (customerToken) { packet.metadata = { customer_token: customerToken }; }
    emit("user_uttered", packet);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    show(text, "user");
    input.value = "";
    send(text);
  });

  fetch("config.json").then(function (r) { return r.json(); }).then(function (cfg) { connect(cfg.rasaUrl); })
    .catch(function () { status.textContent = "offline"; });
})();
