(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box) return;
  box.hidden = false;
  var rows = Array.prototype.slice.call(document.querySelectorAll("#case-table tr")).slice(1);
  var cases = Array.prototype.slice.call(document.querySelectorAll("details.case"));
  box.addEventListener("input", function () {
    var wanted = box.value.trim().toLowerCase();
    rows.forEach(function (row) {
      row.classList.toggle("hidden-by-search", wanted !== "" && row.textContent.toLowerCase().indexOf(wanted) < 0);
    });
    cases.forEach(function (item) {
      var found = wanted !== "" && item.textContent.toLowerCase().indexOf(wanted) >= 0;
      item.classList.toggle("hidden-by-search", wanted !== "" && !found);
      item.open = found;
    });
  });
  // a link to a folded case opens it
  function openTarget() {
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
