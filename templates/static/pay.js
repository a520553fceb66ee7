// The payment page (templates/pages/shop/pay.hbs): Stripe.js mounts the card field and
// tokenises the card; the token goes to Halle in the form, which confirms the PaymentIntent
// with Stripe. When the bank asks for 3-D Secure (`data-step="authenticate"`), Stripe.js
// completes it with the intent's client secret. Without Stripe.js, the page's message stays.
(function () {
  'use strict';
  var form = document.getElementById('pay-form');
  if (!form || typeof window.Stripe !== 'function') {
    return;
  }
  var error = document.getElementById('card-error');
  var stripe = window.Stripe(form.getAttribute('data-key'));
  var failed = form.getAttribute('data-failed');
  document.getElementById('pay-needs-js').hidden = true;
  form.hidden = false;

  if (form.getAttribute('data-step') === 'authenticate') {
    stripe.confirmCardPayment(form.getAttribute('data-secret')).then(function (result) {
      if (result && result.error) {
        error.textContent = result.error.message || failed;
      } else {
        window.location.assign(form.getAttribute('data-done'));
      }
    });
    return;
  }

  var card = stripe.elements().create('card');
  card.mount('#card');
  var button = form.querySelector('button[type=submit]');
  form.addEventListener('submit', function (event) {
    if (form.elements.token.value) {
      return;
    }
    event.preventDefault();
    error.textContent = '';
    button.disabled = true;
    stripe.createToken(card).then(function (result) {
      if (!result || result.error || !result.token) {
        error.textContent = (result && result.error && result.error.message) || failed;
        button.disabled = false;
        return;
      }
      form.elements.token.value = result.token.id;
      form.submit();
    }, function () {
      error.textContent = failed;
      button.disabled = false;
    });
  });
})();
