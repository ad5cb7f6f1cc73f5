// The registration form's 建议分类 box (routing/_register_panel.html): posts the typed text to
// routing:suggest and shows the suggested categories (each with its 依据: similar confirmed
// matters or the dispatch catalogue), similar matters and the petitioner's other matters;
// 采用 fills the category, 作为重复信访关联 the repeat-of number.
// A static file: the Content-Security-Policy runs no inline script.
(function () {
  var box = document.getElementById("routing-register");
  var out = document.getElementById("routing-register-result");
  function val(id) { var el = document.getElementById(id); return el ? el.value : ""; }
  function esc(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }
  document.getElementById("routing-suggest-button").addEventListener("click", function () {
    var body = new URLSearchParams({title: val("id_title"), content: val("id_content"), place: val("id_place"),
      petitioner_id_number: val("id_petitioner_id_number"), petitioner_phone: val("id_petitioner_phone")});
    var csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
    fetch(box.dataset.url, {method: "POST", body: body, credentials: "same-origin", headers: {"X-CSRFToken": csrf}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var html = "";
        if (data.hint) html += "<p class='muted'>" + esc(data.hint) + "</p>";
        data.suggestions.forEach(function (s, i) {
          html += "<p class='routing-suggestion'>" + (i + 1) + ". " + esc(s.label) + " " + Math.round(s.confidence * 100) + "% " +
            esc(s.subcategory || "（目录无对应分类）") + (s.unit ? " → " + esc(s.unit) : "") +
            (s.basis ? " <span class='muted routing-basis'>依据：" + esc(s.basis) + "</span>" : "") +
            (s.subcategory_id ? " <button type='button' class='btn light routing-pick' data-id='" + s.subcategory_id + "'>采用</button>" : "") + "</p>";
        });
        if (data.similar.length) {
          html += "<h3>相似事项</h3>";
          data.similar.forEach(function (c) {
            html += "<p><a href='" + c.url + "' target='_blank'>" + esc(c.number) + "</a> " + esc(c.title) + " <span class='badge'>" + esc(c.state) +
              "</span> <button type='button' class='btn light routing-repeat' data-number='" + esc(c.number) + "'>作为重复信访关联</button></p>";
          });
        }
        if (data.same_petitioner.length) {
          html += "<h3>同一信访人的其他事项</h3>";
          data.same_petitioner.forEach(function (c) {
            html += "<p><a href='" + c.url + "' target='_blank'>" + esc(c.number) + "</a> " + esc(c.title) + " <span class='badge'>" + esc(c.state) + "</span></p>";
          });
        }
        out.innerHTML = html || "<p class='muted'>没有建议。</p>";
        out.querySelectorAll(".routing-pick").forEach(function (b) {
          b.addEventListener("click", function () { var s = document.getElementById("id_category"); if (s) s.value = b.dataset.id; });
        });
        out.querySelectorAll(".routing-repeat").forEach(function (b) {
          b.addEventListener("click", function () { var s = document.getElementById("id_repeat_of"); if (s) s.value = b.dataset.number; });
        });
      });
  });
})();
