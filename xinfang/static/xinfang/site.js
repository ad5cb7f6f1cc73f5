// Behaviour the staff pages once wrote as inline on*= attributes, which the
// Content-Security-Policy (script-src 'self') no longer runs:
//   data-confirm="问题"       on a button or link: ask first, do nothing on 取消;
//   data-autosubmit           on a select: submit its form when it changes;
//   data-select-on-click      on an input: select its text (a link to copy).
// Listeners sit on the document, so fragments loaded later (the case page's 智能分派 panel) work too.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var asking = target.closest("[data-confirm]");
    if (asking && !window.confirm(asking.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    var field = target.closest("[data-select-on-click]");
    if (field && typeof field.select === "function") field.select();
  }, true);
  document.addEventListener("change", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var select = target && target.closest("[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });
})();
