// The live chat page's only script (served by the console, allowed by the page's CSP `script-src 'self'`):
// - every 2 seconds it asks the console for the conversation's lines after the last one shown
//   (GET /handoff/<id>/lines?after=<event id>) and appends them; the console renders them as escaped
//   HTML, so customer text is never markup, and the page's CSP lets nothing inline run anyway;
// - the canned-reply buttons put their text into the message field at the cursor.
// Without it the page still works: a reload shows new messages and the forms post as usual.
(function () {
  "use strict";
  var POLL_MS = 2000;
  var log = document.getElementById("chat-log");
  var status = document.getElementById("live-status");
  var field = document.getElementById("chat-text");

  function say(text) {
    if (status) status.textContent = text;
  }

  function poll() {
    var headers = {};
    var grant = log.getAttribute("data-reveal-grant");
    if (grant) headers["X-Reveal-Grant"] = grant;
    var url = log.getAttribute("data-poll-url") + "?after=" + encodeURIComponent(log.getAttribute("data-after") || "0");
    // redirect: "error": a login page (the session ended) must never be appended as chat lines
    fetch(url, { credentials: "same-origin", cache: "no-store", redirect: "error", headers: headers })
      .then(function (response) {
        var last = response.headers.get("X-Last-Event");
        if (!response.ok || last === null) throw new Error("status " + response.status);
        return response.text().then(function (html) {
          if (html.trim()) {
            var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
            log.insertAdjacentHTML("beforeend", html);
            if (atBottom) window.scrollTo(0, document.body.scrollHeight);
          }
          log.setAttribute("data-after", last);
          if (response.headers.get("X-Ticket-Status") !== "open") {
            say("This conversation is closed.");
            return false;
          }
          say("New customer messages appear here as they arrive.");
          return true;
        });
      })
      .catch(function () {
        say("Could not reach the console for new messages; retrying (reload the page if you were logged out).");
        return true;
      })
      .then(function (goOn) {
        if (goOn) window.setTimeout(poll, POLL_MS);
      });
  }

  if (log) window.setTimeout(poll, POLL_MS);

  Array.prototype.forEach.call(document.querySelectorAll(".insert-canned"), function (button) {
    button.addEventListener("click", function () {
      if (!field) return;
      var body = button.getAttribute("data-body") || "";
      var start = field.selectionStart || 0;
      var end = field.selectionEnd || 0;
      field.value = field.value.slice(0, start) + body + field.value.slice(end);
      field.focus();
      field.selectionStart = field.selectionEnd = start + body.length;
    });
  });
})();
