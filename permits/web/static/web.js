// Small progressive enhancements for every page; every page also works without them.
(function () {
  "use strict";
  // Ask before a form marked data-confirm is sent (revoke, deactivate ...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Copy buttons: <button data-copy="#id-of-input"> copies the input's value.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var done = function () {
      var copied = button.getAttribute("data-copied");
      if (copied) { button.textContent = copied; }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        field.select(); document.execCommand("copy"); done();
      });
    } else {
      field.select(); document.execCommand("copy"); done();
    }
  });
  // Bring the list of errors into view.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
