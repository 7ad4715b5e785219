// Dispute actions: the outcome form shows the agreement or the routes told as the outcome is
// chosen; the consent form shows the routes told when a party refuses. Without JavaScript both
// halves stay visible, each saying when it is needed.
(function () {
  "use strict";
  document.querySelectorAll("[data-outcome-form]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target.name === "outcome") form.setAttribute("data-outcome", event.target.value);
    });
  });
  document.querySelectorAll("[data-consent-form]").forEach(function (form) {
    function update() {
      var refused = form.querySelector('input[value="refused"]:checked') !== null;
      if (refused) form.setAttribute("data-refused", ""); else form.removeAttribute("data-refused");
    }
    form.addEventListener("change", update);
    update();
  });
})();
