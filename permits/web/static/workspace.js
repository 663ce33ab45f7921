// Workspace forms: weekday presets tick the day boxes (the server applies them too).
(function () {
  "use strict";
  var presets = { mwf: ["mon", "wed", "fri"], tts: ["tue", "thu", "sat"],
                  weekdays: ["mon", "tue", "wed", "thu", "fri"], all: [] };
  var select = document.querySelector("[data-weekday-preset]");
  if (!select) return;
  var boxes = document.querySelectorAll('input[name="schedule-weekdays"]');
  select.addEventListener("change", function () {
    var days = presets[select.value];
    if (!days) return;
    boxes.forEach(function (box) { box.checked = days.indexOf(box.value) >= 0; });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () { select.value = ""; });
  });
})();
