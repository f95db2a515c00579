// Logbook's web UI: small progressive enhancements; every page works
// without them. No other host is ever contacted (see the CSP).
"use strict";
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b) return;
  var src = document.getElementById(b.getAttribute("data-copy"));
  if (!src || !navigator.clipboard) return;
  navigator.clipboard.writeText(src.value !== undefined ? src.value : src.textContent).then(function () {
    b.textContent = "Copied";
  });
});
