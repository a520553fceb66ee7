# Receipts and producers' settlements.
money-receipt = Receipt
money-receipt-number = Receipt no. { $number }
money-col-receipt = Receipt
money-no-receipt = not issued yet
money-settlement = producer settlement
money-settlement-links = Settlement (sales, collected, commission, owed):
desk-doc-settlements = Producers' settlements
money-field-commission = Market's commission (%)
money-field-commission-hint = The share of what is collected that the market keeps on each producer's sales, 0 to 50; 0 when the market takes none.
money-save-commission = Save the commission
money-commission-invalid = The commission is a percentage from 0 to 50, with at most two decimals.
done-money-commission-saved = The commission is saved.
