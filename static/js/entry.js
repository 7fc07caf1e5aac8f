// The report sheet: pasting a column copied from Excel fills the value inputs from the one pasted into downwards.
(function () {
  "use strict";
  var form = document.getElementById("sheet-form");
  if (!form) return;
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input.value-input:not([disabled])"));
  inputs.forEach(function (input, index) {
    input.addEventListener("paste", function (event) {
      var text = (event.clipboardData || window.clipboardData).getData("text");
      var lines = text.replace(/\r/g, "").split("\n");
      if (lines.length && lines[lines.length - 1] === "") lines.pop();
      if (lines.length < 2) return; // a single value: let the browser paste it
      event.preventDefault();
      lines.forEach(function (line, offset) {
        var target = inputs[index + offset];
        if (target) target.value = line.split("\t")[0].trim();
      });
    });
  });
})();
