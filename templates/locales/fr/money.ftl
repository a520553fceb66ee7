# Reçus et relevés des producteurs.
money-receipt = Reçu
money-receipt-number = Reçu n° { $number }
money-col-receipt = Reçu
money-no-receipt = pas encore émis
money-settlement = relevé producteur
money-settlement-links = Relevé (ventes, encaissements, commission, dû) :
desk-doc-settlements = Relevés des producteurs
