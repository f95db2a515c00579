// The account page's "Load more": fetch the next timeline page as a
// fragment and append it, without reloading the page. Without this script
// the link opens the next page in full (?cursor=), which works the same.
"use strict";
document.addEventListener("click", function (e) {
  var a = e.target.closest("#load-more");
  if (!a || !a.getAttribute("data-fragment") || !window.fetch) return;
  e.preventDefault();
  var status = document.getElementById("timeline-status");
  a.setAttribute("aria-busy", "true");
  a.textContent = "Loading…";
  fetch(a.getAttribute("data-fragment"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
    .then(function (res) {
      // A redirect (the session ended: sign-in) or an error page: let
      // the full page handle it.
      if (!res.ok || res.redirected) throw new Error(res.status);
      return res.text();
    })
    .then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var list = document.getElementById("timeline-items");
      var more = document.getElementById("timeline-more");
      var items = doc.querySelectorAll("#timeline-items > li");
      var first = null;
      items.forEach(function (li) {
        var node = document.importNode(li, true);
        list.appendChild(node);
        if (!first) first = node;
      });
      var next = doc.getElementById("timeline-more");
      if (more && next) more.replaceWith(document.importNode(next, true));
      if (status) status.textContent = items.length + " more activities loaded.";
      if (first) first.focus();
    })
    .catch(function () {
      // Fall back to the full page, which shows its own error if any.
      window.location.href = a.getAttribute("href");
    });
});
