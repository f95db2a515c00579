// "Ask about this account", streamed: the form (#ask-form) posts with
// fetch to its data-stream URL (the session's CSRF token in X-CSRF-Token)
// and reads the answer as server-sent events: "token" text is appended to
// #answer as it arrives, "citations" become links in #answer-citations and
// each [n] of the answer a link to its record, "error" is shown as a
// sentence. Without this script (or without fetch streams) the form posts
// normally and the server renders the whole answer. Text is only ever set
// with textContent: nothing from the answer is parsed as HTML.
"use strict";
(function () {
  var form = document.getElementById("ask-form");
  if (!form || !window.fetch || !window.TextDecoder || !window.ReadableStream) return;
  var answer = document.getElementById("answer");
  var list = document.getElementById("answer-citations");
  var none = document.getElementById("answer-none");
  var status = document.getElementById("ask-status");
  var errBox = document.getElementById("ask-error");
  var button = form.querySelector("button[type=submit]");
  var marker = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

  // shown is an error whose message is meant for the reader.
  function shown(msg) { return { shown: msg }; }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function showError(msg) {
    errBox.textContent = msg;
    errBox.hidden = false;
  }

  // linkify rewrites #answer's text with each [n] a link to source n.
  function linkify(text, hrefs) {
    clear(answer);
    var at = 0, m;
    marker.lastIndex = 0;
    while ((m = marker.exec(text)) !== null) {
      if (m.index > at) answer.appendChild(document.createTextNode(text.slice(at, m.index)));
      m[1].split(",").forEach(function (s) {
        var n = parseInt(s.trim(), 10);
        var label = "[" + n + "]";
        if (hrefs[n]) {
          var a = document.createElement("a");
          a.className = "cite";
          a.href = hrefs[n];
          a.setAttribute("aria-label", "Source " + n);
          a.textContent = label;
          answer.appendChild(a);
        } else {
          answer.appendChild(document.createTextNode(label));
        }
      });
      at = m.index + m[0].length;
    }
    if (at < text.length) answer.appendChild(document.createTextNode(text.slice(at)));
  }

  function showCitations(cites) {
    clear(list);
    var hrefs = {};
    cites.forEach(function (c) {
      if (!hrefs[c.n]) hrefs[c.n] = c.href;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.className = "cite";
      a.href = c.href;
      a.textContent = "[" + c.n + "] " + c.label;
      var q = document.createElement("q");
      q.textContent = c.quote;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(q);
      list.appendChild(li);
    });
    list.hidden = cites.length === 0;
    return hrefs;
  }

  // events parses a text/event-stream body, calling on(name, data) per
  // event as it arrives.
  function events(res, on) {
    var reader = res.body.getReader();
    var dec = new TextDecoder();
    var buf = "";
    function flush(block) {
      var name = "message", data = [];
      block.split(/\r?\n/).forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (data.length) on(name, JSON.parse(data.join("\n")));
    }
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) {
          if (buf.trim()) flush(buf);
          return;
        }
        buf += dec.decode(r.value, { stream: true });
        var i;
        while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
          var block = buf.slice(0, i);
          buf = buf.slice(i).replace(/^\r?\n\r?\n/, "");
          flush(block);
        }
        return pump();
      });
    }
    return pump();
  }

  form.addEventListener("submit", function (e) {
    var question = form.elements.question.value;
    if (!question.trim()) return; // the browser's own "required" message
    e.preventDefault();
    clear(answer);
    clear(list);
    list.hidden = true;
    none.hidden = true;
    errBox.hidden = true;
    answer.classList.remove("ungrounded");
    answer.setAttribute("aria-busy", "true");
    status.textContent = "Reading this account's history…";
    button.disabled = true;
    var text = "", hrefs = {}, finished = false;
    var body = new URLSearchParams();
    body.set("question", question);
    fetch(form.getAttribute("data-stream"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "text/event-stream", "X-CSRF-Token": form.elements.csrf.value },
      body: body
    }).then(function (res) {
      var type = res.headers.get("Content-Type") || "";
      if (type.indexOf("text/event-stream") !== 0) {
        throw shown(res.status === 403 ? "This page has expired. Reload it and ask again."
          : res.status === 401 ? "Your session has ended. Sign in again."
          : res.status === 404 ? "This account is not there any more, or it is not yours to see."
          : "Something went wrong (" + res.status + "). Try again in a moment.");
      }
      return events(res, function (name, data) {
        if (name === "token") {
          if (!text) status.textContent = "Answering…";
          text += data.text;
          answer.appendChild(document.createTextNode(data.text));
        } else if (name === "citations") {
          hrefs = showCitations(data);
        } else if (name === "done") {
          finished = true;
          text = data.answer;
          linkify(text, hrefs);
          if (!data.grounded) {
            answer.classList.add("ungrounded");
            none.hidden = false;
          }
          status.textContent = data.grounded ? "Answered from " + list.children.length + " record" +
            (list.children.length === 1 ? "." : "s.") : "Nothing on record answers this.";
        } else if (name === "error") {
          finished = true;
          clear(answer);
          status.textContent = "";
          showError(data.message);
        }
      });
    }).then(function () {
      if (!finished) throw shown("The answer was cut off. Try again in a moment.");
    }).catch(function (err) {
      clear(answer);
      status.textContent = "";
      showError(err && err.shown ? err.shown : "Logbook could not be reached, or its answer could not be read. Try again in a moment.");
    }).then(function () {
      answer.removeAttribute("aria-busy");
      button.disabled = false;
    });
  });
})();
