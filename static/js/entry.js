// The report sheet. No inline handlers (the Content-Security-Policy allows none): the period picker's selects
// carry data-autosubmit (and data-clears: a field emptied first), and are wired here.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (select) {
    select.addEventListener("change", function () {
      var clears = select.getAttribute("data-clears");
      if (clears && select.form.elements[clears]) select.form.elements[clears].value = "";
      select.form.submit();
    });
  });
})();

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
