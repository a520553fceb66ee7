# Distribution : le retrait des paniers au point de retrait (bénévoles).
checkout-title = Distributions
checkout-intro = Les distributions d'aujourd'hui et des { $days } prochains jours.
checkout-no-slots = Aucune distribution prévue ces prochains jours.
checkout-cancelled = Annulée
checkout-not-closed = commandes en cours
checkout-not-closed-long = Les commandes de ce cycle ne sont pas encore closes : les paniers pourront être remis après la clôture.
checkout-baskets = { $n ->
    [0] Aucun panier
    [one] 1 panier
   *[other] { $n } paniers
}
checkout-to-come = { $n ->
    [0] Tous les paniers sont passés ({ $total } au total).
    [one] 1 panier à venir sur { $total }
   *[other] { $n } paniers à venir sur { $total }
}
checkout-list-title = Distribution : { $point }
checkout-slot-cancelled = Ce créneau est annulé.
checkout-slot-moved = Ce créneau a été déplacé (prévu initialement le { $from }).
checkout-search = Rechercher un nom ou un téléphone
checkout-search-submit = Rechercher
checkout-shown = { $n ->
    [0] Aucun panier pour « { $q } ».
    [one] 1 panier pour « { $q } ».
   *[other] { $n } paniers pour « { $q } ».
}
checkout-show-all = Afficher tous les paniers
checkout-state-collected = Récupéré
checkout-state-absent = Pas venu
checkout-state-pending = À remettre
checkout-due = Reste à payer :
checkout-total = total
checkout-paid-amount = déjà payé
checkout-lines = { $n ->
    [one] 1 produit
   *[other] { $n } produits
}
checkout-payment = Paiement sur place
checkout-cash = Espèces
checkout-cheque = Chèque
checkout-card = Carte bancaire (terminal)
checkout-amount = Montant payé (€)
checkout-collect-pay = Récupéré et payé
checkout-pay = Enregistrer le paiement
checkout-collect = Récupéré
checkout-collect-unpaid = Récupéré sans payer
checkout-absent = Pas venu
checkout-undo = Annuler
checkout-none = Aucun panier à afficher.
checkout-back = Toutes les distributions
checkout-error-method = Choisissez le moyen de paiement.
checkout-error-invalid-amount = Indiquez un montant entre 0,01 et 10 000 €, par exemple 12,50.
checkout-error-cycle-open = Les commandes de ce cycle ne sont pas encore closes.
checkout-error-order-cancelled = Ce panier a été annulé.
checkout-error-idempotency-key-reused = Ce paiement a déjà été enregistré autrement : rechargez la page.
done-checkout-collected = Panier marqué récupéré.
done-checkout-paid = Paiement enregistré, panier récupéré.
done-checkout-absent = Panier marqué « pas venu ».
done-checkout-pending = Panier remis « à remettre ».
