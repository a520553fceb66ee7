# Reçus et relevés des producteurs.
money-receipt = Reçu
money-receipt-number = Reçu n° { $number }
money-col-receipt = Reçu
money-no-receipt = pas encore émis
money-settlement = relevé producteur
money-settlement-links = Relevé (ventes, encaissements, commission, dû) :
desk-doc-settlements = Relevés des producteurs
money-field-commission = Commission du marché (%)
money-field-commission-hint = Part des encaissements retenue sur les ventes de chaque producteur, de 0 à 50 ; 0 si le marché n'en prend pas.
money-save-commission = Enregistrer la commission
money-commission-invalid = La commission est un pourcentage de 0 à 50, avec au plus deux décimales.
done-money-commission-saved = La commission est enregistrée.
