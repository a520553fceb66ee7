# Receipts and producers' settlements.
money-receipt = Receipt
money-receipt-number = Receipt no. { $number }
money-col-receipt = Receipt
money-no-receipt = not issued yet
money-settlement = producer settlement
money-settlement-links = Settlement (sales, collected, commission, owed):
desk-doc-settlements = Producers' settlements
