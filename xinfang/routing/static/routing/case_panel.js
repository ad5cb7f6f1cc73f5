// The case page's 智能分派 panel: load the fragment that routing serves into its placeholder
// (whose link is what a browser without JavaScript follows), record that the suggestions were
// shown (a POST: the page's GET writes nothing), and let the clerk take one with a click.
(function () {
  "use strict";
  var slot = document.getElementById("routing-panel");
  if (!slot || !window.fetch) return;
  var csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";

  function post(url, fields) {
    return fetch(url, {method: "POST", body: new URLSearchParams(fields),
                       credentials: "same-origin", headers: {"X-CSRFToken": csrf}})
      .then(function (r) { return r.json(); });
  }

  function take(panel, button) {
    post(panel.dataset.takeUrl, {label: button.dataset.label}).then(function (data) {
      var status = document.getElementById("routing-status");
      if (data.error) { status.textContent = data.error; return; }
      var select = document.getElementById("id_route-unit");
      if (select && data.unit_id) { select.value = String(data.unit_id); }
      // 事项分类: saved with the route, so the office's choice reaches the next training
      var category = document.getElementById("id_route-category");
      if (category && data.category_id) { category.value = String(data.category_id); }
      var details = document.querySelector("details[data-action=route]");
      if (details) { details.open = true; }
      status.textContent = "已采用：" + data.label + (data.unit_id ? "，已填入事项分类和转送单位" : "（目录中没有对应单位，请选择）");
      panel.querySelectorAll(".routing-suggestion").forEach(function (row) {
        row.classList.toggle("chosen", row.dataset.label === data.label);
      });
    });
  }

  function wire() {
    var panel = document.getElementById("routing-suggestions");
    if (!panel) return;
    if (panel.dataset.shownUrl) { post(panel.dataset.shownUrl, {version: panel.dataset.version}); }
    panel.querySelectorAll(".routing-take").forEach(function (button) {
      button.addEventListener("click", function () { take(panel, button); });
    });
  }

  fetch(slot.dataset.src, {credentials: "same-origin"})
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
    .then(function (html) { slot.innerHTML = html; wire(); })
    .catch(function () { /* the link stays: the panel opens on its own page */ });
})();
