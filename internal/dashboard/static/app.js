// The dashboard's only script: it refreshes the page's content in place
// and asks for a second press before a button acts. Without it the page
// still works: the buttons act on the first press.
(function () {
  "use strict";
  var every = Number(document.body.dataset.refresh || 0);
  var main = document.querySelector("main");
  function armed() { return document.querySelector("button.armed, button.sent") !== null; }
  function tick() {
    if (armed()) { setTimeout(tick, every); return; }
    fetch(location.href, { headers: { "X-Bluegreen-Fragment": "1" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null && !armed()) { main.innerHTML = html; } })
      .catch(function () {})
      .then(function () { setTimeout(tick, every); });
  }
  if (every > 0) { setTimeout(tick, every); }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-confirm]");
    if (!b || b.disabled) { return; }
    if (b.classList.contains("armed")) { b.classList.remove("armed"); b.classList.add("sent"); return; }
    e.preventDefault();
    b.classList.add("armed");
    b.dataset.label = b.textContent;
    b.textContent = b.dataset.confirm;
    setTimeout(function () {
      if (b.classList.contains("armed")) { b.classList.remove("armed"); b.textContent = b.dataset.label; }
    }, 5000);
  });
})();
