// Eligo console: the one script. An element with data-watch="active" (a running rerun's progress)
// is refreshed every two seconds from its data-source (the progress alone, which names no
// beneficiary) until it says the work is over; the page is then reloaded once, to show what it
// finished with. Everything else works without script.
(function () {
  'use strict';
  var watched = document.querySelector('[data-watch][data-source]');
  if (!watched || watched.getAttribute('data-watch') !== 'active') {
    return;
  }
  function poll() {
    fetch(watched.getAttribute('data-source'), { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-watch]');
        if (!fresh) {
          return;
        }
        watched.innerHTML = fresh.innerHTML;
        if (fresh.getAttribute('data-watch') === 'active') {
          setTimeout(poll, 2000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
