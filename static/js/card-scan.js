/* The household card at the counter: read its QR code from a photo or the live camera with the
   vendored jsQR, put the token into the scan field and send it (the same request a USB scanner
   makes by typing the token and Enter). jsQR is loaded only when a photo or the camera is used.
   No inline script: the CSP stays script-src 'self'. The texts come from the page (gettext). */
(function () {
  "use strict";

  var stream = null;
  var jsqrLoading = null;

  function box() { return document.getElementById("card-scan"); }
  function text(name) { var el = box(); return el ? el.getAttribute("data-text-" + name) || "" : ""; }
  function status(message) {
    var el = document.getElementById("card-scan-status");
    if (el) { el.textContent = message; }
  }

  // The photo and camera options appear only where they can work (no script: the field only).
  function setUp() {
    var camera = document.getElementById("card-scan-camera");
    if (!camera || !window.FileReader || !document.createElement("canvas").getContext) { return; }
    camera.hidden = false;
    var start = document.getElementById("card-camera-start");
    if (start && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      start.hidden = !!stream;
    }
  }

  function loadJsQR() {
    if (window.jsQR) { return Promise.resolve(window.jsQR); }
    if (!jsqrLoading) {
      jsqrLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = box().getAttribute("data-jsqr-src");
        script.onload = function () { resolve(window.jsQR); };
        script.onerror = function () { jsqrLoading = null; reject(new Error("jsQR")); };
        document.head.appendChild(script);
      });
    }
    return jsqrLoading;
  }

  // White behind the picture: a transparent image (an SVG) would read as all black.
  function readPixels(source, width, height) {
    var canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = "#fff";
    context.fillRect(0, 0, width, height);
    context.drawImage(source, 0, 0, width, height);
    return context.getImageData(0, 0, width, height);
  }

  function send(token) {
    var field = document.getElementById("card-token");
    var form = document.getElementById("card-scan-form");
    if (!field || !form) { return; }
    field.value = token;
    status(text("found"));
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function readFile(input) {
    var file = input.files && input.files[0];
    if (!file) { return; }
    status(text("reading"));
    loadJsQR().then(function (jsQR) {
      var reader = new FileReader();
      reader.onload = function () {
        var image = new Image();
        image.onload = function () {
          // Big enough for a small code, small enough for a phone's 12-megapixel photo.
          var longest = Math.max(image.naturalWidth || 0, image.naturalHeight || 0) || 600;
          var scale = Math.min(Math.max(600 / longest, 1), 1600 / longest);
          var width = Math.round((image.naturalWidth || 600) * scale);
          var height = Math.round((image.naturalHeight || 600) * scale);
          var pixels = readPixels(image, width, height);
          var code = jsQR(pixels.data, width, height, { inversionAttempts: "attemptBoth" });
          input.value = "";
          if (code && code.data) { send(code.data); } else { status(text("not-found")); }
        };
        image.onerror = function () { input.value = ""; status(text("not-found")); };
        image.src = reader.result;
      };
      reader.readAsDataURL(file);
    }, function () { status(text("camera-failed")); });
  }

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    var video = document.getElementById("card-camera");
    if (video) { video.hidden = true; video.srcObject = null; }
    var stop = document.getElementById("card-camera-stop");
    if (stop) { stop.hidden = true; }
    setUp();
  }

  function scanFrames(video, jsQR) {
    // Leaving the page (a boosted link swaps the body) switches the camera off.
    if (!document.body.contains(video)) { stopCamera(); return; }
    if (!stream || video.hidden) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      var pixels = readPixels(video, video.videoWidth, video.videoHeight);
      var code = jsQR(pixels.data, video.videoWidth, video.videoHeight, { inversionAttempts: "dontInvert" });
      if (code && code.data) { stopCamera(); send(code.data); return; }
    }
    window.requestAnimationFrame(function () { scanFrames(video, jsQR); });
  }

  function startCamera() {
    var video = document.getElementById("card-camera");
    Promise.all([
      loadJsQR(),
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
    ]).then(function (found) {
      stream = found[1];
      video.srcObject = stream;
      video.hidden = false;
      document.getElementById("card-camera-start").hidden = true;
      document.getElementById("card-camera-stop").hidden = false;
      status(text("camera-on"));
      return video.play().then(function () { scanFrames(video, found[0]); });
    }).catch(function () { stopCamera(); status(text("camera-failed")); });
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "card-image") { readFile(event.target); }
  });
  document.addEventListener("click", function (event) {
    var target = event.target && event.target.closest ? event.target.closest("button") : null;
    if (!target) { return; }
    if (target.id === "card-camera-start") { startCamera(); }
    if (target.id === "card-camera-stop") { stopCamera(); status(""); }
  });
  // The token was sent: the field is ready for the next card.
  document.addEventListener("htmx:finally:request", function (event) {
    if (event.target && event.target.id === "card-scan-form") {
      var field = document.getElementById("card-token");
      if (field) { field.value = ""; }
    }
  });
  window.addEventListener("pagehide", stopCamera);
  document.addEventListener("htmx:after:swap", setUp);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
