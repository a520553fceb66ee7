# Distribution: handing baskets over at the pickup point (volunteers).
checkout-title = Distributions
checkout-intro = Today's distributions and those of the next { $days } days.
checkout-no-slots = No distribution planned in the coming days.
checkout-cancelled = Cancelled
checkout-not-closed = still taking orders
checkout-not-closed-long = This cycle still takes orders: baskets can be handed over once it closes.
checkout-baskets = { $n ->
    [0] No basket
    [one] 1 basket
   *[other] { $n } baskets
}
checkout-to-come = { $n ->
    [0] Every basket is done ({ $total } in all).
    [one] 1 basket still to come out of { $total }
   *[other] { $n } baskets still to come out of { $total }
}
checkout-list-title = Distribution: { $point }
checkout-slot-cancelled = This slot is cancelled.
checkout-slot-moved = This slot was moved (first planned on { $from }).
checkout-search = Search a name or phone number
checkout-search-submit = Search
checkout-shown = { $n ->
    [0] No basket for “{ $q }”.
    [one] 1 basket for “{ $q }”.
   *[other] { $n } baskets for “{ $q }”.
}
checkout-show-all = Show every basket
checkout-state-collected = Collected
checkout-state-absent = Did not come
checkout-state-pending = To hand over
checkout-due = Still to pay:
checkout-total = total
checkout-paid-amount = already paid
checkout-lines = { $n ->
    [one] 1 product
   *[other] { $n } products
}
checkout-payment = Payment on the spot
checkout-cash = Cash
checkout-cheque = Cheque
checkout-card = Card (terminal)
checkout-amount = Amount paid (€)
checkout-collect-pay = Collected and paid
checkout-pay = Record the payment
checkout-collect = Collected
checkout-collect-unpaid = Collected, not paid
checkout-absent = Did not come
checkout-undo = Undo
checkout-none = No basket to show.
checkout-back = All distributions
checkout-error-method = Choose how it was paid.
checkout-error-invalid-amount = Give an amount between €0.01 and €10,000, for example 12.50.
checkout-error-cycle-open = This cycle still takes orders.
checkout-error-order-cancelled = This basket was cancelled.
checkout-error-idempotency-key-reused = This payment was already recorded differently: reload the page.
done-checkout-collected = Basket marked collected.
done-checkout-paid = Payment recorded, basket collected.
done-checkout-absent = Basket marked “did not come”.
done-checkout-pending = Basket back to “to hand over”.
