// The case page's 答复参考 panel: load the fragment that answers serves into its placeholder
// (whose link is what a browser without JavaScript follows), and check the draft typed in the
// reply form (处理意见) with a POST that stores nothing. No inline script: CSP allows none.
(function () {
  "use strict";
  var slot = document.getElementById("answers-panel-slot");
  if (!slot || !window.fetch) return;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function show(result, data) {
    result.textContent = "";
    if (data.error) { result.appendChild(el("p", "error", data.error)); return; }
    var list = el("ul", "answers-checks");
    data.checks.forEach(function (c) {
      var item = el("li", c.passed ? "ok" : "missing");
      item.appendChild(el("strong", "", (c.passed ? "✓ " : "✗ ") + c.label));
      item.appendChild(document.createTextNode("：" + c.note));
      list.appendChild(item);
    });
    result.appendChild(list);
  }

  function wire() {
    var form = document.getElementById("answers-check-form");
    var result = document.getElementById("answers-result");
    if (!form || !result) return;
    // on the case page the draft is the reply form's 处理意见: check that one
    var replyText = document.querySelector("details[data-action=reply] textarea[name$=text]");
    var own = document.getElementById("answers-draft");
    if (replyText && own) { own.hidden = true; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new FormData(form);
      body.set("format", "json");
      if (replyText) { body.set("text", replyText.value); }
      fetch(form.action, {method: "POST", body: body, credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (data) { show(result, data); })
        .catch(function () { show(result, {error: "检查失败，请稍后再试"}); });
    });
  }

  fetch(slot.dataset.src, {credentials: "same-origin"})
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
    .then(function (html) { slot.innerHTML = html; wire(); })
    .catch(function () { /* the link stays: the panel opens on its own page */ });
})();
