/* After a save, a page that opens at a section (/patients/P…#monitoring) would leave the message
   saying what was saved above the fold. Move the messages to just above that section and focus
   the first, so it is where the eye is and a screen reader reads it. Without JavaScript the
   message stays at the top (and takes focus there through autofocus). */
(function () {
  "use strict";
  var flashes = document.querySelector(".flashes");
  var id = window.location.hash ? decodeURIComponent(window.location.hash.slice(1)) : "";
  var target = id ? document.getElementById(id) : null;
  if (!flashes || !target || target.id === "content") {
    return;
  }
  target.parentNode.insertBefore(flashes, target);
  flashes.classList.add("flashes-here");
  var first = flashes.querySelector("[tabindex]");
  if (first) {
    // After the load: the browser's own scroll to the section would otherwise come after.
    window.addEventListener("load", function () {
      first.focus();
    });
  }
})();

/* A table too wide for the screen scrolls inside its box: let the keyboard reach it too (the
   box takes focus and arrow keys scroll it), named after the table's caption. */
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".table-wrap:not([tabindex])");
  Array.prototype.forEach.call(boxes, function (box) {
    if (box.scrollWidth <= box.clientWidth) {
      return;
    }
    var caption = box.querySelector("caption");
    var name = caption ? caption.textContent.replace(/\s+/g, " ").trim() : "Table";
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", name.slice(0, 120) + " (scrolls sideways)");
  });
})();
