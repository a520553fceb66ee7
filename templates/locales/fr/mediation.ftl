# Médiation numérique : commander pour un membre.
mediation-title = Commander pour un membre
mediation-intro = Retrouvez la personne par son nom ou son téléphone, ou créez-la si elle n'a pas encore de compte, puis commandez pour elle.
mediation-search = Nom ou téléphone
mediation-search-submit = Chercher
mediation-results = Personnes trouvées
mediation-none = Personne ne correspond. Vous pouvez créer la personne ci-dessous.
mediation-order-for = Commander pour cette personne
mediation-create = Nouvelle personne
mediation-create-intro = Pas besoin d'adresse e-mail : le nom suffit, le téléphone aide à la retrouver.
mediation-create-submit = Créer et commander pour cette personne
mediation-banner-label = Commande pour une autre personne
mediation-banner = Vous commandez pour { $name }
mediation-banner-orders = Ses commandes
mediation-stop = Arrêter
done-mediation-stopped = Vous ne commandez plus pour cette personne.
