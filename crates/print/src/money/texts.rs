//! The fixed words of the receipts and settlements, French and English.

use serde::Serialize;

use crate::Lang;

/// Every fixed label of the money documents in one language.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MoneyTexts {
    /// `lang` attribute of the HTML document.
    pub lang: &'static str,
    /// What goes before a colon.
    pub colon: &'static str,
    /// "Receipt".
    pub receipt: &'static str,
    /// "Receipt no." (before the number).
    pub receipt_no: &'static str,
    /// "Issued on".
    pub issued_on: &'static str,
    /// "Consumer".
    pub consumer: &'static str,
    /// "Order no.".
    pub order_no: &'static str,
    /// "Pickup".
    pub pickup: &'static str,
    /// "Product".
    pub product: &'static str,
    /// "Producer".
    pub producer: &'static str,
    /// "Quantity".
    pub quantity: &'static str,
    /// "Unit".
    pub unit: &'static str,
    /// "Weighed (kg)".
    pub weighed_kg: &'static str,
    /// "Unit price incl. VAT".
    pub unit_price: &'static str,
    /// "VAT rate".
    pub vat_rate: &'static str,
    /// "Amount incl. VAT".
    pub amount: &'static str,
    /// "Total incl. VAT".
    pub total: &'static str,
    /// "VAT breakdown".
    pub vat_breakdown: &'static str,
    /// "Base excl. VAT".
    pub net: &'static str,
    /// "VAT".
    pub vat: &'static str,
    /// "Incl. VAT".
    pub gross: &'static str,
    /// "Payments".
    pub payments: &'static str,
    /// "No payment recorded".
    pub no_payment: &'static str,
    /// "Refund (online)".
    pub refund: &'static str,
    /// "Paid".
    pub paid: &'static str,
    /// "Still due".
    pub due: &'static str,
    /// "Overpaid, to give back".
    pub overpaid: &'static str,
    /// "Paid online".
    pub pay_online: &'static str,
    /// "Cash".
    pub pay_cash: &'static str,
    /// "Cheque".
    pub pay_cheque: &'static str,
    /// "Card (on the spot)".
    pub pay_card: &'static str,
    /// A line still at its estimated weight.
    pub estimated_note: &'static str,
    /// "Settlement".
    pub settlement: &'static str,
    /// "Baskets".
    pub baskets: &'static str,
    /// "Sold".
    pub sold: &'static str,
    /// "Summary".
    pub summary: &'static str,
    /// "Collected online (share)".
    pub online_share: &'static str,
    /// "Collected on the spot (share)".
    pub on_the_spot_share: &'static str,
    /// "Collected".
    pub collected: &'static str,
    /// "Still to be paid by consumers".
    pub outstanding: &'static str,
    /// "Market's commission".
    pub commission: &'static str,
    /// "Owed to the producer".
    pub owed: &'static str,
    /// How payments are shared and amounts rounded.
    pub method_note: &'static str,
    /// "lines at estimated weight".
    pub unweighed: &'static str,
    /// CSV "Line" column (what the row is).
    pub line: &'static str,
    /// CSV row kind of a product.
    pub row_product: &'static str,
    /// CSV row kind of a payment.
    pub row_payment: &'static str,
    /// "Date".
    pub date: &'static str,
    /// "Nothing to print".
    pub nothing: &'static str,
    /// "Page".
    pub page: &'static str,
    /// "continued".
    pub continued: &'static str,
}

/// French.
pub const FR: MoneyTexts = MoneyTexts {
    lang: "fr",
    colon: "\u{a0}:",
    receipt: "Reçu",
    receipt_no: "Reçu n°",
    issued_on: "Émis le",
    consumer: "Client",
    order_no: "Commande n°",
    pickup: "Retrait",
    product: "Produit",
    producer: "Producteur",
    quantity: "Quantité",
    unit: "Unité",
    weighed_kg: "Poids pesé (kg)",
    unit_price: "Prix unitaire TTC",
    vat_rate: "Taux de TVA",
    amount: "Montant TTC",
    total: "Total TTC",
    vat_breakdown: "Détail de la TVA",
    net: "Base HT",
    vat: "TVA",
    gross: "TTC",
    payments: "Règlements",
    no_payment: "Aucun règlement enregistré.",
    refund: "Remboursement (en ligne)",
    paid: "Payé",
    due: "Reste dû",
    overpaid: "Trop-perçu, à rendre",
    pay_online: "Carte en ligne",
    pay_cash: "Espèces",
    pay_cheque: "Chèque",
    pay_card: "Carte sur place",
    estimated_note: "Une ligne au moins compte encore son poids estimé.",
    settlement: "Relevé producteur",
    baskets: "Paniers",
    sold: "Vendu TTC",
    summary: "Règlement au producteur",
    online_share: "Encaissé en ligne (quote-part)",
    on_the_spot_share: "Encaissé sur place (quote-part)",
    collected: "Encaissé",
    outstanding: "Reste à payer par les clients",
    commission: "Commission du marché",
    owed: "Dû au producteur",
    method_note: "Les règlements de chaque panier sont répartis entre ses producteurs au prorata de leurs lignes, arrondis au centime (au pair), la plus grosse part prenant l'écart d'arrondi ; la commission porte sur l'encaissé, arrondie au centime.",
    unweighed: "lignes au poids estimé",
    line: "Ligne",
    row_product: "produit",
    row_payment: "règlement",
    date: "Date",
    nothing: "Rien à imprimer.",
    page: "Page",
    continued: "suite",
};

/// English.
pub const EN: MoneyTexts = MoneyTexts {
    lang: "en",
    colon: ":",
    receipt: "Receipt",
    receipt_no: "Receipt no.",
    issued_on: "Issued on",
    consumer: "Consumer",
    order_no: "Order no.",
    pickup: "Pickup",
    product: "Product",
    producer: "Producer",
    quantity: "Quantity",
    unit: "Unit",
    weighed_kg: "Weighed (kg)",
    unit_price: "Unit price incl. VAT",
    vat_rate: "VAT rate",
    amount: "Amount incl. VAT",
    total: "Total incl. VAT",
    vat_breakdown: "VAT breakdown",
    net: "Base excl. VAT",
    vat: "VAT",
    gross: "Incl. VAT",
    payments: "Payments",
    no_payment: "No payment recorded.",
    refund: "Refund (online)",
    paid: "Paid",
    due: "Still due",
    overpaid: "Overpaid, to give back",
    pay_online: "Card online",
    pay_cash: "Cash",
    pay_cheque: "Cheque",
    pay_card: "Card on the spot",
    estimated_note: "At least one line still counts its estimated weight.",
    settlement: "Producer settlement",
    baskets: "Baskets",
    sold: "Sold incl. VAT",
    summary: "Settlement",
    online_share: "Collected online (share)",
    on_the_spot_share: "Collected on the spot (share)",
    collected: "Collected",
    outstanding: "Still to be paid by consumers",
    commission: "Market's commission",
    owed: "Owed to the producer",
    method_note: "Each basket's payments are shared between its producers pro rata of their lines, rounded to the cent (half to even), the largest share taking the rounding difference; the commission is on what was collected, rounded to the cent.",
    unweighed: "lines at estimated weight",
    line: "Line",
    row_product: "product",
    row_payment: "payment",
    date: "Date",
    nothing: "Nothing to print.",
    page: "Page",
    continued: "continued",
};

impl MoneyTexts {
    /// The table of a language.
    #[must_use]
    pub fn of(lang: Lang) -> &'static MoneyTexts {
        match lang {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    /// The name of a payment (a negative online payment is a refund).
    #[must_use]
    pub fn payment(&self, p: &distribution::Payment) -> &'static str {
        use distribution::PaymentMethod as M;
        match p.method {
            M::Online if p.amount < domain::Money::ZERO => self.refund,
            M::Online => self.pay_online,
            M::Cash => self.pay_cash,
            M::Cheque => self.pay_cheque,
            M::Card => self.pay_card,
        }
    }
}
