// Eligo console: the one script. A page element with data-watch (a running rerun's progress) is
// refreshed from the same page every two seconds until the page says the work is over; then the
// page is reloaded once, to show what it finished with. Everything else works without script.
(function () {
  'use strict';
  var watched = document.querySelector('[data-watch]');
  if (!watched) {
    return;
  }
  function poll() {
    fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
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
  if (watched.getAttribute('data-watch') === 'active') {
    setTimeout(poll, 2000);
  }
})();
