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

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // Buttons send their payload; the customer sees the button's title as what they said.
  function buttonRow(buttons) {
    var row = element("div", "chat__buttons");
    buttons.forEach(function (b) {
      var button = element("button", "chat__button", b.title);
      button.type = "button";
      button.addEventListener("click", function () { show(b.title, "user"); send(b.payload || b.title); });
      row.appendChild(button);
    });
    return row;
  }

  function showButtons(buttons) {
    if (!buttons.length) return;
    var item = element("li", "chat__msg chat__msg--bot chat__msg--buttons");
    item.appendChild(buttonRow(buttons));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  // Product cards (actions/products.py): image, title, price, rating, link, and the card's buttons.
  function showCards(products) {
    var item = element("li", "chat__msg chat__msg--bot chat__cards");
    products.forEach(function (p) {
      var card = element("article", "chat__card");
      card.dataset.productId = p.id;
      if (p.image) {
        var image = element("img", "chat__card-image");
        image.src = p.image; image.alt = ""; image.loading = "lazy";
        card.appendChild(image);
      }
      var link = element("a", "chat__card-title", p.title);
      link.href = p.url; link.target = "_blank"; link.rel = "noopener";
      card.appendChild(link);
      var facts = p.price_text + (p.rating ? " · ★ " + Number(p.rating).toFixed(1) : "") + (p.in_stock ? "" : " · out of stock");
      card.appendChild(element("div", "chat__card-facts", facts));
      if (p.reason) card.appendChild(element("div", "chat__card-reason", p.reason));
      card.appendChild(buttonRow(p.buttons || []));
      item.appendChild(card);
    });
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  // The shop's page owns the basket: it listens for this event and adds the product.
  function addToCart(data) {
    window.dispatchEvent(new CustomEvent("shop-chat:add-to-cart", { detail: { productId: data.product_id, url: data.url } }));
  }

  function onCustom(data) {
    if (!data || typeof data !== "object") return;
    if (data.type === "product_cards") showCards(data.products || []);
    else if (data.type === "add_to_cart") addToCart(data);
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
      showButtons(data.quick_replies || data.buttons || []);
      if (data.type) onCustom(data);
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
