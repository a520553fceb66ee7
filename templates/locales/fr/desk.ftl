# Coordination : le marché d'un coup d'œil, cycles, documents, tournées, points de retrait, équipe, invitations.
desk-title = Coordination
desk-nav-label = Coordination
desk-members-link = Adhérents
desk-back = Retour à la coordination
desk-current-cycles = Cycles en cours
desk-no-current-cycle = Aucun cycle en cours.
desk-create-cycle = Créer le cycle
desk-market-summary = Le marché
desk-count-points = { $n ->
    [0] Aucun point de retrait
    [one] Un point de retrait
   *[other] { $n } points de retrait
}
desk-count-rules = { $n ->
    [0] Aucun créneau hebdomadaire
    [one] Un créneau hebdomadaire
   *[other] { $n } créneaux hebdomadaires
}
desk-count-producers = { $n ->
    [0] Aucun producteur
    [one] Un producteur
   *[other] { $n } producteurs
}
desk-count-past = { $n ->
    [0] Aucun cycle distribué
    [one] Un cycle distribué
   *[other] { $n } cycles distribués
}
desk-hint-rules = Ajoutez d'abord les créneaux hebdomadaires de vos points de retrait : chaque cycle en reçoit ses créneaux.
desk-opens = Ouverture :
desk-closes = Clôture :
desk-next = À faire :
desk-state-draft = En préparation
desk-state-open = Ouvert aux commandes
desk-state-closed = Clos
desk-state-distributed = Distribué
desk-next-draft = vérifier que les producteurs ont publié leur offre, puis ouvrir le cycle.
desk-next-open = suivre les commandes ; le cycle se clôt à l'heure prévue (ou plus tôt si vous le clôturez).
desk-next-closed = imprimer les feuilles de distribution, listes de préparation et étiquettes, organiser les tournées, puis marquer le cycle distribué.
desk-next-distributed = rien : le cycle est archivé.
desk-action-open = Ouvrir le cycle
desk-action-close = Clore le cycle maintenant
desk-action-distributed = Marquer comme distribué
desk-cycles-title = Cycles
desk-cycles-caption = Les cycles de { $market }
desk-col-cycle = Cycle
desk-col-state = État
desk-no-cycle = Aucun cycle pour l'instant.
desk-new-cycle = Nouveau cycle
desk-field-cycle-name = Nom du cycle
desk-field-opens-at = Ouverture des commandes
desk-field-closes-at = Clôture des commandes
desk-field-tz-hint = Heure locale du marché ({ $tz }).
desk-field-from-rules = { $n ->
    [0] Créer les créneaux à partir des créneaux hebdomadaires (aucun pour l'instant)
    [one] Créer le créneau à partir du créneau hebdomadaire
   *[other] Créer les { $n } créneaux à partir des créneaux hebdomadaires
}
desk-slots = Créneaux de distribution
desk-no-slot = Ce cycle n'a encore aucun créneau.
desk-slot-cancelled = annulé
desk-generate-slots = Ajouter les créneaux hebdomadaires
desk-offers = Offres des producteurs
desk-published-count = { $n } sur { $total } { $total ->
    [one] producteur a
   *[other] producteurs ont
} publié leur offre.
desk-offers-caption = Offre publiée par producteur
desk-col-producer = Producteur
desk-col-offer = Offre
desk-published = { $n ->
    [one] publiée (un produit)
   *[other] publiée ({ $n } produits)
}
desk-not-published = pas encore publiée
desk-orders = Commandes
desk-orders-caption = { $n ->
    [one] Une commande, { $total } au total
   *[other] { $n } commandes, { $total } au total
}
desk-no-order = Aucune commande pour l'instant.
desk-col-consumer = Adhérent
desk-col-slot = Créneau
desk-col-total = Total
desk-col-collection = Retrait
desk-collection-pending = à retirer
desk-collection-collected = retiré
desk-collection-not-collected = non retiré
desk-documents = Documents
desk-doc-sheets = Feuilles de distribution
desk-doc-picking = Listes de préparation
desk-doc-picking-one = liste de préparation (PDF)
desk-doc-labels-one = étiquettes (PDF)
desk-doc-labels = Étiquettes
desk-rounds = Tournées de livraison mutualisées
desk-no-round = Aucune tournée pour ce cycle.
desk-new-round = Nouvelle tournée
desk-field-round-name = Nom de la tournée
desk-field-start-name = Départ et arrivée (dépôt, ferme)
desk-field-latitude = Latitude
desk-field-longitude = Longitude
desk-field-departure = Départ
desk-field-capacity = Capacité du véhicule (cagettes)
desk-field-round-producers = Producteurs à collecter
desk-field-round-slots = Créneaux à livrer
desk-plan-round = Planifier la tournée
desk-round-summary = { $km } en tout, { $duration }.
desk-round-sheet = Feuille de route :
desk-round-caption = Les arrêts, dans l'ordre
desk-col-stop = Étape
desk-col-place = Lieu
desk-col-arrival = Arrivée
desk-col-departure = Départ
desk-col-load = Cagettes à bord
desk-stop-start = départ
desk-stop-collect = collecte
desk-stop-deliver = livraison
desk-stop-end = arrivée
desk-round-unassigned = Envois hors tournée
desk-replan = Replanifier avec les commandes actuelles
desk-points-title = Points de retrait
desk-points-list = Les points de retrait
desk-no-point = Aucun point de retrait pour l'instant.
desk-hosted-by = Accueilli par { $host } ({ $kind })
desk-host-town-hall = mairie
desk-host-shop = commerce
desk-host-company = entreprise
desk-host-farm = ferme
desk-host-association = association
desk-rules-list = Créneaux hebdomadaires
desk-rules-caption = Créneaux hebdomadaires (heure locale, { $tz })
desk-no-rule = Aucun créneau hebdomadaire pour l'instant.
desk-col-point = Point de retrait
desk-col-weekday = Jour
desk-col-hours = Horaires
desk-weekday-0 = lundi
desk-weekday-1 = mardi
desk-weekday-2 = mercredi
desk-weekday-3 = jeudi
desk-weekday-4 = vendredi
desk-weekday-5 = samedi
desk-weekday-6 = dimanche
desk-new-rule = Nouveau créneau hebdomadaire
desk-field-point = Point de retrait
desk-field-weekday = Jour de la semaine
desk-field-starts = Début
desk-field-ends = Fin
desk-add-rule = Ajouter le créneau
desk-new-point = Nouveau point de retrait
desk-field-point-name = Nom du point de retrait
desk-field-address = Adresse
desk-field-postal-code = Code postal
desk-field-city = Commune
desk-field-host-kind = Type d'hôte
desk-field-host-name = Hôte (qui accueille)
desk-field-access-notes = Accès
desk-field-access-notes-hint = Comment entrer, où se garer, à qui s'adresser.
desk-add-point = Ajouter le point de retrait
desk-staff-title = Équipe et producteurs
desk-staff-people = L'équipe
desk-staff-caption = L'équipe de { $market }
desk-no-staff = Personne d'autre dans l'équipe pour l'instant.
desk-col-name = Nom
desk-col-role = Rôle
desk-col-contact = Contact
desk-col-accounts = Comptes
desk-col-action = Action
desk-staff-producers = Les producteurs
desk-producers-caption = Les producteurs du marché et leurs comptes
desk-no-account = pas de compte
desk-no-producer = Aucun producteur pour l'instant.
desk-role-consumer = adhérent
desk-role-producer = producteur
desk-role-coordinator = coordinateur
desk-role-volunteer = bénévole
desk-role-host = hôte d'un point de retrait
desk-role-admin = administrateur
desk-invitations = Invitations
desk-invitations-caption = Invitations envoyées
desk-no-invitation = Aucune invitation.
desk-invitation-pending = en attente
desk-invitation-used = acceptée
desk-invitation-expired = expirée
desk-expires = Valable jusqu'au { $when }
desk-revoke = Retirer l'invitation
desk-invite = Inviter quelqu'un
desk-invite-intro = L'invitation est un lien à usage unique, valable { $days } jours : la personne y choisit son mot de passe.
desk-field-role = Inviter comme
desk-field-person-name = Nom de la personne
desk-field-person-email = Adresse e-mail de la personne
desk-field-person-email-hint = Facultatif : proposée comme identifiant.
desk-invite-producer = Pour un producteur
desk-field-producer = Producteur
desk-new-producer-option = Nouveau producteur…
desk-new-producer-hint = Pour un nouveau producteur, donnez le nom de la ferme et son adresse.
desk-field-farm-name = Nom de la ferme ou de l'atelier
desk-invite-host = Pour un hôte
desk-send-invitation = Créer l'invitation
desk-invited-title = Invitation créée
desk-invited-intro = { $name } est invité(e) comme { $role } de { $market }.
desk-invited-link = Lien d'invitation
desk-invited-hint = Transmettez ce lien à la personne (il ne sera plus affiché). Il fonctionne une fois, pendant { $days } jours.
desk-invited-no-mail = Halle n'envoie pas encore de courriels : envoyez vous-même ce lien à { $email }.
desk-invite-title = Rejoindre Halle
desk-invite-who = { $inviter } vous invite à rejoindre { $market } comme { $role }.
desk-invite-accept = Créer mon compte
desk-invite-gone-title = Invitation inutilisable
desk-invite-used = Cette invitation a déjà servi. Connectez-vous avec le compte créé.
desk-invite-expired = Cette invitation a expiré. Demandez-en une nouvelle à la coordination du marché.
desk-invite-unknown = Ce lien d'invitation n'existe pas ou a été retiré.
desk-error-required = À remplir.
desk-error-date = Donnez une date et une heure (jj/mm/aaaa hh:mm).
desk-error-number = Donnez un nombre.
desk-error-choose-one = Choisissez-en au moins un.
desk-error-bad-request = Ce formulaire n'est pas compris.
desk-error-invalid-window = La clôture doit suivre l'ouverture.
desk-error-cycle-closed = Ce cycle est clos.
desk-error-cycle-not-open = Ce cycle n'est pas encore ouvert.
desk-error-invalid-transition = Ce cycle ne peut pas passer dans cet état maintenant.
desk-error-concurrent-change = Le cycle a changé entre-temps : rechargez la page.
desk-error-invalid-time = Donnez une heure comme 17:30.
desk-error-invalid-slot = La fin doit suivre le début.
desk-error-unsolvable-round = Cette tournée ne peut pas être planifiée (capacité ou horaires).
desk-error-invalid-round = Une tournée collecte au moins un producteur et livre au moins un créneau.
desk-error-unknown-slot = Un créneau choisi n'est pas de ce cycle.
desk-error-unknown-producer = Un producteur choisi n'existe pas.
desk-error-slug-taken = Un autre marché utilise déjà cet identifiant.
desk-error-invalid-timezone = Fuseau horaire inconnu (par exemple Europe/Paris).
desk-error-producer-not-in-market = Ce producteur ne vend pas sur ce marché.
desk-error-producer-required = Choisissez le producteur.
desk-error-pickup-point-required = Choisissez le point de retrait.
desk-error-invalid-role = Choisissez un rôle.
desk-error-invalid-field = Un champ obligatoire est vide ou trop long.
desk-error-invalid-coordinates = Coordonnées invalides.
desk-error-invalid-host-kind = Choisissez un type d'hôte.
desk-error-invalid-name = Donnez un nom (200 caractères au plus).
desk-error-invalid-email = Cette adresse e-mail ne semble pas valide.
done-desk-cycle-created = Le cycle est créé.
done-desk-cycle-opened = Le cycle est ouvert aux commandes.
done-desk-cycle-closed = Le cycle est clos.
done-desk-cycle-distributed = Le cycle est marqué comme distribué.
done-desk-slots = Les créneaux hebdomadaires sont ajoutés.
done-desk-round-planned = La tournée est planifiée.
done-desk-round-replanned = La tournée est replanifiée.
done-desk-point-created = Le point de retrait est ajouté.
done-desk-rule-created = Le créneau hebdomadaire est ajouté.
done-desk-invitation-revoked = L'invitation est retirée.
done-desk-market-created = Le marché est créé. Invitez maintenant sa coordination.

## The market's vehicles, and rounds shared among them.
desk-vehicles-title = Véhicules
desk-vehicles-intro = Les véhicules du marché : une tournée peut être partagée entre plusieurs d'entre eux, chacun dans sa capacité en caisses et en kilos.
desk-vehicles-list = Les véhicules
desk-vehicles-caption = Véhicules de { $market }
desk-col-vehicle = Véhicule
desk-col-crates = Caisses
desk-col-kg = Kilos
desk-col-actions = Actions
desk-no-vehicle = Aucun véhicule pour l'instant : ajoutez-en un ci-dessous.
desk-vehicle-archived = Archivé
desk-vehicle-edit = Modifier { $name }
desk-vehicle-archive = Archiver { $name }
desk-new-vehicle = Ajouter un véhicule
desk-edit-vehicle = Modifier { $name }
desk-field-vehicle-name = Nom du véhicule
desk-field-vehicle-crates = Capacité en caisses (1 à 10 000)
desk-field-vehicle-kg = Charge utile en kilos
desk-field-vehicle-kg-hint = Laissez vide si le poids ne limite pas ce véhicule.
desk-add-vehicle = Ajouter le véhicule
desk-save-vehicle = Enregistrer
desk-error-vehicle-crates = Indiquez un nombre de caisses entre 1 et 10 000.
desk-error-vehicle-kg = Indiquez un poids en kilos supérieur à 0, ou laissez vide.
desk-error-duplicate-name = Le marché a déjà un véhicule de ce nom.
desk-error-invalid-capacity = Cette capacité n'est pas possible : de 1 à 10 000 caisses, et un poids supérieur à 0 (40 000 kg au plus).
desk-error-vehicle-archived = Un véhicule choisi est archivé.
desk-error-unknown-vehicle = Un véhicule choisi n'est pas l'un de ceux du marché.
done-desk-vehicle-saved = Le véhicule est enregistré.
done-desk-vehicle-archived = Le véhicule est archivé.
desk-field-round-vehicles = Véhicules du marché (facultatif)
desk-field-round-vehicles-hint = Cochez les véhicules entre lesquels partager la tournée ; sans véhicule coché, la tournée se fait dans un seul véhicule de la capacité indiquée ci-dessous.
desk-vehicle-choice = { $name } ({ $crates } caisses)
desk-vehicle-choice-kg = { $name } ({ $crates } caisses, { $kg } kg)
desk-round-vehicle = Véhicule : { $name }
desk-round-vehicle-summary = { $km }, { $duration } ; chargé : { $crates } caisses sur { $capacity }, { $kg } kg.
desk-round-caption-vehicle = Les arrêts de { $name }, dans l'ordre
