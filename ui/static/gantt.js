// Zoom (wheel) and pan (drag) for the Gantt chart by changing its viewBox
// horizontally; double-click resets. The page works without it.
(function () {
  var svg = document.getElementById("gantt");
  if (!svg) { return; }
  var w = svg.viewBox.baseVal.width, h = svg.viewBox.baseVal.height;
  var view = { x: 0, w: w };
  function apply() { svg.setAttribute("viewBox", view.x + " 0 " + view.w + " " + h); }
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = svg.getBoundingClientRect();
    var fx = (e.clientX - r.left) / r.width;
    var at = view.x + fx * view.w;
    var nw = Math.min(w, Math.max(w / 200, view.w * (e.deltaY > 0 ? 1.25 : 0.8)));
    view.x = Math.min(w - nw, Math.max(0, at - fx * nw));
    view.w = nw;
    apply();
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (e) { drag = { x: e.clientX, vx: view.x }; });
  window.addEventListener("mouseup", function () { drag = null; });
  window.addEventListener("mousemove", function (e) {
    if (!drag) { return; }
    var r = svg.getBoundingClientRect();
    view.x = Math.min(w - view.w, Math.max(0, drag.vx - (e.clientX - drag.x) * view.w / r.width));
    apply();
  });
  svg.addEventListener("dblclick", function () { view = { x: 0, w: w }; apply(); });
})();
