//! The fixed words of the printed documents, French and English.
//!
//! One [`Texts`] table per [`Lang`]; templates reach it as `t` (for example
//! `{{t.quantity}}`), the PDF and CSV writers use the same table, so the
//! three formats always say the same thing.

use distribution::{Collection, PaymentMethod};
use serde::Serialize;

use crate::Lang;

/// Every fixed label of the printed documents in one language.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Texts {
    /// `lang` attribute of the HTML document.
    pub lang: &'static str,
    /// What goes before a colon: a no-break space in French, nothing in English.
    pub colon: &'static str,
    /// Title of the picking list.
    pub picking_title: &'static str,
    /// Title of the bag labels.
    pub labels_title: &'static str,
    /// Title of the distribution sheet.
    pub sheet_title: &'static str,
    /// Title of the delivery round.
    pub round_title: &'static str,
    /// "Pickup point".
    pub pickup_point: &'static str,
    /// "Slot".
    pub slot: &'static str,
    /// "Address".
    pub address: &'static str,
    /// "Product".
    pub product: &'static str,
    /// "Products" (a section heading).
    pub products: &'static str,
    /// "Producer".
    pub producer: &'static str,
    /// "Consumer".
    pub consumer: &'static str,
    /// "Quantity".
    pub quantity: &'static str,
    /// "Unit".
    pub unit: &'static str,
    /// "Estimated weight".
    pub estimated_weight: &'static str,
    /// "Amount".
    pub amount: &'static str,
    /// "Total".
    pub total: &'static str,
    /// "Estimated total".
    pub estimated_total: &'static str,
    /// "Paid".
    pub paid: &'static str,
    /// "Amount due".
    pub due: &'static str,
    /// "Payment" (the column holding total, paid and due).
    pub payment: &'static str,
    /// "Collected" (the checkbox of a basket).
    pub collected: &'static str,
    /// "Signature".
    pub signature: &'static str,
    /// "Status".
    pub status: &'static str,
    /// "Order no." prefix.
    pub order_no: &'static str,
    /// "Phone".
    pub phone: &'static str,
    /// "Cycle".
    pub cycle: &'static str,
    /// "Orders closed" (picking list header).
    pub closed_at: &'static str,
    /// "Estimated value".
    pub estimated_value: &'static str,
    /// "One crate per pickup point" (picking list note).
    pub one_crate_per_point: &'static str,
    /// "Harvested / packed" (checkbox column of the picking list).
    pub done: &'static str,
    /// "Slot totals".
    pub slot_totals: &'static str,
    /// "Baskets".
    pub baskets: &'static str,
    /// "VAT".
    pub vat: &'static str,
    /// "VAT rate".
    pub vat_rate: &'static str,
    /// "Excl. VAT".
    pub net: &'static str,
    /// "Incl. VAT".
    pub gross: &'static str,
    /// "Deliveries by producer" (distribution sheet).
    pub deliveries_by_producer: &'static str,
    /// "Received" (checkbox of a producer's crate).
    pub received: &'static str,
    /// "Nothing to print" (empty document).
    pub nothing: &'static str,
    /// "No basket for this slot".
    pub no_basket: &'static str,
    /// "Cancelled" (a cancelled slot).
    pub cancelled: &'static str,
    /// "weighed" (a variable-weight line whose pieces were weighed).
    pub weighed: &'static str,
    /// "estimated" (a total that still holds estimates).
    pub estimated: &'static str,
    /// "other items" (after "+ 3" on a full label).
    pub more_items: &'static str,
    /// "continued" (a table carried over to the next page).
    pub continued: &'static str,
    /// "Page".
    pub page: &'static str,
    /// "Stop" (round step number).
    pub stop: &'static str,
    /// "Time".
    pub time: &'static str,
    /// "Place".
    pub place: &'static str,
    /// "Load / unload".
    pub cargo: &'static str,
    /// "Load" (on board after the stop).
    pub load: &'static str,
    /// "Distance".
    pub distance: &'static str,
    /// "Duration".
    pub duration: &'static str,
    /// "crates".
    pub crates: &'static str,
    /// "crate".
    pub crate_one: &'static str,
    /// "Not planned" (unassigned pickups).
    pub unassigned: &'static str,
    /// "Vehicle" (a section of a round with several).
    pub vehicle: &'static str,
    /// "Carried" (crates and kg a vehicle loads over its round).
    pub carried: &'static str,
    /// "Reason".
    pub reason: &'static str,
    /// "Start".
    pub kind_start: &'static str,
    /// "Collect".
    pub kind_collect: &'static str,
    /// "Deliver".
    pub kind_deliver: &'static str,
    /// "End".
    pub kind_end: &'static str,
    /// "Stop kind".
    pub kind: &'static str,
    /// "Arrival".
    pub arrival: &'static str,
    /// "Departure".
    pub departure: &'static str,
    /// "Pending" (basket not yet collected).
    pub status_pending: &'static str,
    /// "Collected".
    pub status_collected: &'static str,
    /// "Not collected".
    pub status_not_collected: &'static str,
    /// "Cash".
    pub pay_cash: &'static str,
    /// "Cheque".
    pub pay_cheque: &'static str,
    /// "Card".
    pub pay_card: &'static str,
    /// "Online".
    pub pay_online: &'static str,
}

/// French.
pub const FR: Texts = Texts {
    lang: "fr",
    colon: "\u{a0}:",
    picking_title: "Liste de préparation",
    labels_title: "Étiquettes",
    sheet_title: "Feuille de distribution",
    round_title: "Tournée",
    pickup_point: "Point de retrait",
    slot: "Créneau",
    address: "Adresse",
    product: "Produit",
    products: "Produits",
    producer: "Producteur",
    consumer: "Client",
    quantity: "Quantité",
    unit: "Unité",
    estimated_weight: "Poids estimé",
    amount: "Montant",
    total: "Total",
    estimated_total: "Total estimé",
    paid: "Payé",
    due: "Reste dû",
    payment: "Règlement",
    collected: "Retiré",
    signature: "Signature",
    status: "Statut",
    order_no: "Commande n°",
    phone: "Téléphone",
    cycle: "Cycle",
    closed_at: "Commandes closes le",
    estimated_value: "Valeur estimée",
    one_crate_per_point: "Une caisse par point de retrait",
    done: "Fait",
    slot_totals: "Totaux du créneau",
    baskets: "Paniers",
    vat: "TVA",
    vat_rate: "Taux de TVA",
    net: "HT",
    gross: "TTC",
    deliveries_by_producer: "Livraisons par producteur",
    received: "Reçu",
    nothing: "Rien à imprimer.",
    no_basket: "Aucun panier pour ce créneau.",
    cancelled: "Annulé",
    weighed: "pesé",
    estimated: "estimé",
    more_items: "autres articles",
    continued: "suite",
    page: "Page",
    stop: "Étape",
    time: "Heure",
    place: "Lieu",
    cargo: "Charger / décharger",
    load: "À bord",
    distance: "Distance",
    duration: "Durée",
    crates: "caisses",
    crate_one: "caisse",
    unassigned: "Non planifié",
    vehicle: "Véhicule",
    carried: "Chargé",
    reason: "Raison",
    kind_start: "Départ",
    kind_collect: "Collecte",
    kind_deliver: "Livraison",
    kind_end: "Retour",
    kind: "Type",
    arrival: "Arrivée",
    departure: "Départ",
    status_pending: "À retirer",
    status_collected: "Retiré",
    status_not_collected: "Non retiré",
    pay_cash: "espèces",
    pay_cheque: "chèque",
    pay_card: "carte",
    pay_online: "en ligne",
};

/// English.
pub const EN: Texts = Texts {
    lang: "en",
    colon: ":",
    picking_title: "Picking list",
    labels_title: "Labels",
    sheet_title: "Distribution sheet",
    round_title: "Round",
    pickup_point: "Pickup point",
    slot: "Slot",
    address: "Address",
    product: "Product",
    products: "Products",
    producer: "Producer",
    consumer: "Consumer",
    quantity: "Quantity",
    unit: "Unit",
    estimated_weight: "Estimated weight",
    amount: "Amount",
    total: "Total",
    estimated_total: "Estimated total",
    paid: "Paid",
    due: "Amount due",
    payment: "Payment",
    collected: "Collected",
    signature: "Signature",
    status: "Status",
    order_no: "Order no.",
    phone: "Phone",
    cycle: "Cycle",
    closed_at: "Orders closed on",
    estimated_value: "Estimated value",
    one_crate_per_point: "One crate per pickup point",
    done: "Done",
    slot_totals: "Slot totals",
    baskets: "Baskets",
    vat: "VAT",
    vat_rate: "VAT rate",
    net: "Excl. VAT",
    gross: "Incl. VAT",
    deliveries_by_producer: "Deliveries by producer",
    received: "Received",
    nothing: "Nothing to print.",
    no_basket: "No basket for this slot.",
    cancelled: "Cancelled",
    weighed: "weighed",
    estimated: "estimated",
    more_items: "more items",
    continued: "continued",
    page: "Page",
    stop: "Stop",
    time: "Time",
    place: "Place",
    cargo: "Load / unload",
    load: "On board",
    distance: "Distance",
    duration: "Duration",
    crates: "crates",
    crate_one: "crate",
    unassigned: "Not planned",
    vehicle: "Vehicle",
    carried: "Carried",
    reason: "Reason",
    kind_start: "Start",
    kind_collect: "Collect",
    kind_deliver: "Deliver",
    kind_end: "End",
    kind: "Kind",
    arrival: "Arrival",
    departure: "Departure",
    status_pending: "Pending",
    status_collected: "Collected",
    status_not_collected: "Not collected",
    pay_cash: "cash",
    pay_cheque: "cheque",
    pay_card: "card",
    pay_online: "online",
};

impl Texts {
    /// The table of a language.
    #[must_use]
    pub fn of(lang: Lang) -> &'static Texts {
        match lang {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    /// The word for a basket's collection state.
    #[must_use]
    pub fn collection(&self, collection: Collection) -> &'static str {
        match collection {
            Collection::Pending => self.status_pending,
            Collection::Collected => self.status_collected,
            Collection::NotCollected => self.status_not_collected,
        }
    }

    /// The word for a payment method.
    #[must_use]
    pub fn payment_method(&self, method: PaymentMethod) -> &'static str {
        match method {
            PaymentMethod::Cash => self.pay_cash,
            PaymentMethod::Cheque => self.pay_cheque,
            PaymentMethod::Card => self.pay_card,
            PaymentMethod::Online => self.pay_online,
        }
    }

    /// `1 caisse`, `3 caisses`.
    #[must_use]
    pub fn crates_count(&self, n: u32) -> String {
        // French keeps the singular for 0 and 1; English only for 1.
        let singular = if self.lang == "fr" { n <= 1 } else { n == 1 };
        let word = if singular {
            self.crate_one
        } else {
            self.crates
        };
        format!("{n}\u{a0}{word}")
    }
}
