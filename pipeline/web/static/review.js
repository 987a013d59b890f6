// pecrs review page: keys for the buttons and links already on the page (each works without this script), and
// picking a span of the document as a curator's evidence. Served from the app under a CSP nonce.
(function () {
  "use strict";
  var KEYS = {a: "do-accept", x: "do-reject", u: "do-undo", j: "go-next", ArrowRight: "go-next",
              k: "go-previous", ArrowLeft: "go-previous", d: "go-document"};

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); event.preventDefault(); }
      return;
    }
    if (event.key === "c" || event.key === "e") {
      var value = document.getElementById("value");
      if (value) { event.preventDefault(); value.focus(); if (value.select) value.select(); }
      return;
    }
    if (event.key === "b") {  // the bulk accepts: open them, on the first one's button
      var bulk = document.querySelector("details.bulk");
      var button = bulk && bulk.querySelector("button:not([disabled])");
      if (button) { event.preventDefault(); bulk.open = true; button.focus(); }
      return;
    }
    var target = document.getElementById(KEYS[event.key] || "");
    if (target && !target.disabled) { event.preventDefault(); target.click(); }
  });

  // the span under review, in view in the document pane (the pane scrolls, not the page)
  var pane = document.getElementById("document");
  var here = pane && pane.querySelector("mark.current");
  if (here) {
    var top = here.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
    pane.scrollTop = Math.max(0, top - pane.clientHeight / 2);
  }

  // a selection inside the document text: its characters, from the offsets every piece of text carries
  function offset(node, within) {
    var element = node.nodeType === 1 ? node : node.parentElement;
    while (element && !element.hasAttribute("data-start")) element = element.parentElement;
    return element ? parseInt(element.getAttribute("data-start"), 10) + within : null;
  }
  var text = document.getElementById("document-text");
  var start = document.getElementById("picked-start"), end = document.getElementById("picked-end");
  if (text && start && end) {
    document.addEventListener("selectionchange", function () {
      var selection = document.getSelection();
      if (!selection || selection.isCollapsed || !text.contains(selection.anchorNode)) return;
      var a = offset(selection.anchorNode, selection.anchorOffset);
      var b = offset(selection.focusNode, selection.focusOffset);
      if (a === null || b === null) return;
      start.value = Math.min(a, b);
      end.value = Math.max(a, b);
      var said = document.getElementById("picked");
      if (said) said.textContent = "picked: “" + selection.toString().trim().slice(0, 80) + "”";
      var value = document.getElementById("value");
      if (value && value.tagName === "INPUT" && !value.value) value.value = selection.toString().trim().slice(0, 60);
    });
  }
})();
