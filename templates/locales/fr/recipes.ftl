# Recettes : liste, de saison ce mois-ci, une recette et où trouver ses ingrédients.
recipes-title = Recettes de saison
recipes-month-label = Mois
recipes-month-show = Afficher
recipes-in-season = De saison en { $month }, par catégorie
recipes-none-in-season = Aucune recette de saison ce mois-ci.
recipes-all = Toutes les recettes
recipes-serves = { $n ->
    [one] pour { $n } personne
   *[other] pour { $n } personnes
}
recipes-minutes = { $n } min
recipes-all-year = toute l'année
recipes-season = Saison :
recipes-ingredients = Ingrédients
recipes-steps = Préparation
recipes-on-sale = En vente cette semaine
recipes-on-sale-intro = Dans le cycle ouvert de votre marché si vous êtes connecté, et dans les cycles ouverts près d'un lieu : indiquez sa latitude et sa longitude (par exemple 46,6486 et -0,2469 pour Parthenay).
recipes-field-lat = Latitude
recipes-field-lat-hint = En degrés décimaux, par exemple 46,6486.
recipes-field-lon = Longitude
recipes-field-km = Rayon (km, de 5 à 100)
recipes-search = Chercher près d'ici
recipes-your-market = votre marché
recipes-nothing-on-sale = Aucun de ces ingrédients n'est en vente cette semaine dans un cycle ouvert près d'ici.
recipes-back = Toutes les recettes
recipes-error-month = Le mois va de 1 à 12.
recipes-error-lat = Une latitude entre -90 et 90, par exemple 46,6486.
recipes-error-lon = Une longitude entre -180 et 180, par exemple -0,2469.
recipes-error-km = Un rayon de 5 à 100 km.
recipes-suggested = Des recettes avec ce panier
recipes-covered = { $n } ingrédient(s) sur { $total } dans votre panier
recipes-link = Recettes
month-1 = janvier
month-2 = février
month-3 = mars
month-4 = avril
month-5 = mai
month-6 = juin
month-7 = juillet
month-8 = août
month-9 = septembre
month-10 = octobre
month-11 = novembre
month-12 = décembre
recipes-home-link = Que cuisiner ce mois-ci : les recettes de saison et où trouver leurs ingrédients
