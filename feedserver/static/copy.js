// Copy buttons of the feed pages: the addresses are plain text and links without JavaScript; with it, each
// button[data-copy] is shown and copies the text of the element it names, and the page's status line says so.
(function () {
  "use strict";
  function copied(button) {
    var status = document.querySelector(".copy-status");
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = status.getAttribute("data-copied"); }, 50);
    }
    button.classList.add("done");
  }
  function copyText(text, button) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button); }, function () { select(text, button); });
    } else {
      select(text, button);
    }
  }
  function select(text, button) {
    // Without the clipboard API (http:, older browsers): a hidden text field and the copy command.
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "visually-hidden";
    document.body.appendChild(field);
    field.select();
    try {
      if (document.execCommand("copy")) { copied(button); }
    } finally {
      document.body.removeChild(field);
      button.focus();
    }
  }
  function start() {
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) { return; }
      button.hidden = false;
      button.addEventListener("click", function () { copyText(source.textContent.trim(), button); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
