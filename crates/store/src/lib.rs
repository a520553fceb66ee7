//! Halle's persistence: the sea-orm entities, the repositories that read them back as plain
//! views, and the use cases that must be atomic (an order together with its stock).
//!
//! Every write use case runs in one transaction and takes the acting account ([`Actor`]) so
//! that tenant rules (a producer manages only its own products, a coordinator only its market,
//! a consumer sees only its own orders) are enforced next to the data, whatever the caller.
//!
//! Errors: [`StoreError`] says what went wrong in the caller's terms (not found, forbidden,
//! conflict, invalid, insufficient stock); database failures are kept whole in
//! [`StoreError::Db`] and are the only errors a caller should treat as unexpected.
//!
//! Amounts are stored as cents and quantities as thousandths of a unit (see `migrations/`), and
//! converted to and from `domain::Money` / `domain::Quantity` here and nowhere else.

mod accounts_admin;
pub mod audit;
mod auth;
mod basket_cache;
mod catalogue;
pub mod catalogue_csv;
mod checkout;
mod common_passwords;
mod cycles;
mod db;
pub mod deadline;
mod desk;
mod directory;
pub mod entities;
mod error;
pub mod fixtures;
mod gate;
mod invitations;
pub mod mail;
mod members;
pub mod ops;
mod order_batch;
mod orders;
mod password_resets;
mod payments;
mod photos;
mod producer_space;
mod read_cache;
mod receipts;
pub mod recipes;
mod reports;
mod rights;
mod rounds;
mod sale_cache;
mod sessions;
mod shop;
mod slots;
mod text;
mod vehicles;
mod venues;

pub use audit::{AuditEntry, AuditFilter, AuditPage};
pub use auth::{Actor, MIN_PASSWORD_CHARS, NewAccount, Role, TokenGrant, hash_password};
pub use catalogue::{
    HOST_KINDS, MarketView, NewMarket, NewPickupPoint, NewProducer, NewProduct, PickupPointView,
    ProducerView, ProductUpdate, ProductView, check_photo_url,
};
pub use checkout::{CHECKOUT_DAYS, CheckoutList, CheckoutSlot};
pub use cycles::{
    CycleSummary, CycleView, NewCycle, NewSlot, OfferInput, OfferView, SlotView, Viewer,
};
pub use db::{Backend, Store, StoreOptions};
pub use desk::RoundSummary;
pub use directory::{
    AlertNotice, AlertRequest, AlertSignup, AlertSubscriptionView, COLLECT_DAYS, DIRECTORY_RECHECK,
    DirectoryEntry, DirectoryPoint, DirectoryProducer, DirectorySearch, EntryInput, Kept, Located,
    MAX_ENTRY_TEXT, MarketLink, PAGE_SIZE, PlacesDataset, PlacesImported, PointFound, PointHit,
    PointSlots, ProducerFound, ProducerHit, SearchResults,
};
pub use error::StoreError;
pub use invitations::{
    Acceptance, INVITATION_DAYS, INVITED_ROLES, InvitationGrant, InvitationState, InvitationView,
    NewInvitation, StaffMember,
};
pub use mail::outbox;
pub use members::{INTERNAL_EMAIL_DOMAIN, MemberView};
pub use orders::{IdempotencyKey, OrderLineView, OrderRequest, OrderView, Placed};
pub use password_resets::{PasswordResetView, RESET_MINUTES, RESET_THROTTLE_MINUTES};
pub use payments::{
    CardConfirmation, HOLD_CAPTURE_AGE, Mismatch, OnlinePaymentView, PaymentEvent, PaymentMode,
    PaymentPage, PaymentSettings, PaymentSettingsUpdate, PaymentWork, Reconciliation,
    WebhookOutcome, WebhookRefusal, hold_cents,
};
pub use photos::{MAX_PHOTO_BYTES, MAX_SIDE, Photo, PreparedPhoto, photo_path, prepare_photo};
pub use producer_space::{
    ProducerCycle, ProducerReport, RowError, SaleRow, WeekOffer, WeekRow, WeighLine, is_closed,
};
pub use read_cache::{CYCLE_RECHECK, ShownCycle};
pub use receipts::ReceiptView;
pub use reports::{CycleData, LineFilter, NewPayment, PaymentView};
pub use rounds::{NewRound, RoundPlace, RoundView};
pub use sessions::{LANGUAGES, RECHECK, SESSION_DAYS, Session, SessionGrant};
pub use shop::{BasketProblem, CurrentBasket, CycleLabel};
pub use slots::{SlotChange, SlotConsumer, SlotRuleView};
pub use vehicles::{MAX_VEHICLE_CRATES, VehicleInput, VehicleView};
pub use venues::{Flagged, Venue, VenueClosure, VenueFlag, VenueSlot};
