// The window: add party rows without a round trip (the button posts the form when there is
// no JavaScript), remove a row (it is blanked, and blank rows are skipped), and no accidental
// submission with Enter in a one-line field.
(function () {
  "use strict";
  var form = document.getElementById("window-form");
  if (!form) return;
  form.querySelectorAll("[data-add-party]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var prefix = button.value;
      var total = form.querySelector('[name="' + prefix + '-TOTAL_FORMS"]');
      var max = parseInt(form.querySelector('[name="' + prefix + '-MAX_NUM_FORMS"]').value, 10);
      var n = parseInt(total.value, 10);
      if (n >= max) return;
      var template = document.getElementById("tpl-" + prefix);
      var rows = document.getElementById(prefix + "-rows");
      rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, n).replace(/__num__/g, n + 1));
      total.value = n + 1;
      var row = rows.lastElementChild;
      if (window.htmx) window.htmx.process(row);
      var first = row.querySelector("input");
      if (first) first.focus();
    });
  });
  form.addEventListener("click", function (event) {
    var remove = event.target.closest("[data-remove-party]");
    if (!remove) return;
    var row = remove.closest("[data-party-row]");
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    row.hidden = true;
  });
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target.tagName === "INPUT" && target.type !== "submit") event.preventDefault();
  });
})();
