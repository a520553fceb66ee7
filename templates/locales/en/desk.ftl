# Coordinators' desk: the market at a glance, cycles, documents, rounds, pickup points, staff, invitations.
desk-title = Coordination
desk-nav-label = Coordination
desk-members-link = Members
desk-back = Back to coordination
desk-current-cycles = Current cycles
desk-no-current-cycle = No current cycle.
desk-create-cycle = Create the cycle
desk-market-summary = The market
desk-count-points = { $n ->
    [0] No pickup point
    [one] One pickup point
   *[other] { $n } pickup points
}
desk-count-rules = { $n ->
    [0] No weekly slot
    [one] One weekly slot
   *[other] { $n } weekly slots
}
desk-count-producers = { $n ->
    [0] No producer
    [one] One producer
   *[other] { $n } producers
}
desk-count-past = { $n ->
    [0] No distributed cycle
    [one] One distributed cycle
   *[other] { $n } distributed cycles
}
desk-hint-rules = First add the weekly slots of your pickup points: each cycle gets its slots from them.
desk-opens = Opens:
desk-closes = Closes:
desk-next = Next:
desk-state-draft = Being prepared
desk-state-open = Open for orders
desk-state-closed = Closed
desk-state-distributed = Distributed
desk-next-draft = check that producers have published their offer, then open the cycle.
desk-next-open = follow the orders; the cycle closes at the planned time (or earlier if you close it).
desk-next-closed = print the distribution sheets, picking lists and labels, plan the rounds, then mark the cycle distributed.
desk-next-distributed = nothing: the cycle is archived.
desk-action-open = Open the cycle
desk-action-close = Close the cycle now
desk-action-distributed = Mark as distributed
desk-cycles-title = Cycles
desk-cycles-caption = The cycles of { $market }
desk-col-cycle = Cycle
desk-col-state = State
desk-no-cycle = No cycle yet.
desk-new-cycle = New cycle
desk-field-cycle-name = Name of the cycle
desk-field-opens-at = Orders open
desk-field-closes-at = Orders close
desk-field-tz-hint = The market's local time ({ $tz }).
desk-field-from-rules = { $n ->
    [0] Create the slots from the weekly slots (none yet)
    [one] Create the slot from the weekly slot
   *[other] Create the { $n } slots from the weekly slots
}
desk-slots = Distribution slots
desk-no-slot = This cycle has no slot yet.
desk-slot-cancelled = cancelled
desk-generate-slots = Add the weekly slots
desk-offers = Producers' offers
desk-published-count = { $n } of { $total } { $total ->
    [one] producer has
   *[other] producers have
} published their offer.
desk-offers-caption = Published offer by producer
desk-col-producer = Producer
desk-col-offer = Offer
desk-published = { $n ->
    [one] published (one product)
   *[other] published ({ $n } products)
}
desk-not-published = not published yet
desk-orders = Orders
desk-orders-caption = { $n ->
    [one] One order, { $total } in all
   *[other] { $n } orders, { $total } in all
}
desk-no-order = No order yet.
desk-col-consumer = Member
desk-col-slot = Slot
desk-col-total = Total
desk-col-collection = Collection
desk-collection-pending = to collect
desk-collection-collected = collected
desk-collection-not-collected = not collected
desk-documents = Documents
desk-doc-sheets = Distribution sheets
desk-doc-picking = Picking lists
desk-doc-picking-one = picking list (PDF)
desk-doc-labels-one = labels (PDF)
desk-doc-labels = Labels
desk-rounds = Co-delivery rounds
desk-no-round = No round for this cycle.
desk-new-round = New round
desk-field-round-name = Name of the round
desk-field-start-name = Start and end (depot, farm)
desk-field-latitude = Latitude
desk-field-longitude = Longitude
desk-field-departure = Departure
desk-field-capacity = Vehicle capacity (crates)
desk-field-round-producers = Producers to collect from
desk-field-round-slots = Slots to deliver to
desk-plan-round = Plan the round
desk-round-summary = { $km } in all, { $duration }.
desk-round-sheet = Round sheet:
desk-round-caption = The stops, in order
desk-col-stop = Stop
desk-col-place = Place
desk-col-arrival = Arrival
desk-col-departure = Departure
desk-col-load = Crates on board
desk-stop-start = start
desk-stop-collect = collection
desk-stop-deliver = delivery
desk-stop-end = end
desk-round-unassigned = Shipments left out
desk-replan = Plan again with the current orders
desk-points-title = Pickup points
desk-points-list = The pickup points
desk-no-point = No pickup point yet.
desk-hosted-by = Hosted by { $host } ({ $kind })
desk-host-town-hall = town hall
desk-host-shop = shop
desk-host-company = company
desk-host-farm = farm
desk-host-association = association
desk-rules-list = Weekly slots
desk-rules-caption = Weekly slots (local time, { $tz })
desk-no-rule = No weekly slot yet.
desk-col-point = Pickup point
desk-col-weekday = Day
desk-col-hours = Hours
desk-weekday-0 = Monday
desk-weekday-1 = Tuesday
desk-weekday-2 = Wednesday
desk-weekday-3 = Thursday
desk-weekday-4 = Friday
desk-weekday-5 = Saturday
desk-weekday-6 = Sunday
desk-new-rule = New weekly slot
desk-field-point = Pickup point
desk-field-weekday = Day of the week
desk-field-starts = Start
desk-field-ends = End
desk-add-rule = Add the slot
desk-new-point = New pickup point
desk-field-point-name = Name of the pickup point
desk-field-address = Address
desk-field-postal-code = Postal code
desk-field-city = Town
desk-field-host-kind = Kind of host
desk-field-host-name = Host (who welcomes it)
desk-field-access-notes = Access
desk-field-access-notes-hint = How to get in, where to park, whom to ask.
desk-add-point = Add the pickup point
desk-staff-title = Staff and producers
desk-staff-people = The staff
desk-staff-caption = The staff of { $market }
desk-no-staff = Nobody else on the staff yet.
desk-col-name = Name
desk-col-role = Role
desk-col-contact = Contact
desk-col-accounts = Accounts
desk-col-action = Action
desk-staff-producers = The producers
desk-producers-caption = The market's producers and their accounts
desk-no-account = no account
desk-no-producer = No producer yet.
desk-role-consumer = member
desk-role-producer = producer
desk-role-coordinator = coordinator
desk-role-volunteer = volunteer
desk-role-host = pickup point host
desk-role-admin = administrator
desk-invitations = Invitations
desk-invitations-caption = Invitations sent
desk-no-invitation = No invitation.
desk-invitation-pending = waiting
desk-invitation-used = accepted
desk-invitation-expired = expired
desk-expires = Valid until { $when }
desk-revoke = Withdraw the invitation
desk-invite = Invite someone
desk-invite-intro = An invitation is a one-time link, valid for { $days } days: the person chooses their password there.
desk-field-role = Invite as
desk-field-person-name = The person's name
desk-field-person-email = The person's email address
desk-field-person-email-hint = Optional: offered as their login.
desk-invite-producer = For a producer
desk-field-producer = Producer
desk-new-producer-option = New producer…
desk-new-producer-hint = For a new producer, give the farm's name and address.
desk-field-farm-name = Name of the farm or workshop
desk-invite-host = For a host
desk-send-invitation = Create the invitation
desk-invited-title = Invitation created
desk-invited-intro = { $name } is invited as { $role } of { $market }.
desk-invited-link = Invitation link
desk-invited-hint = Give this link to the person (it will not be shown again). It works once, for { $days } days.
desk-invited-no-mail = Halle does not send mail yet: send this link to { $email } yourself.
desk-invite-title = Join Halle
desk-invite-who = { $inviter } invites you to join { $market } as { $role }.
desk-invite-accept = Create my account
desk-invite-gone-title = Invitation no longer valid
desk-invite-used = This invitation was already used. Log in with the account it created.
desk-invite-expired = This invitation has expired. Ask the market's coordinators for a new one.
desk-invite-unknown = This invitation link does not exist or was withdrawn.
desk-error-required = Fill this in.
desk-error-date = Give a date and time (dd/mm/yyyy hh:mm).
desk-error-number = Give a number.
desk-error-choose-one = Choose at least one.
desk-error-bad-request = This form was not understood.
desk-error-invalid-window = The close must come after the opening.
desk-error-cycle-closed = This cycle is closed.
desk-error-cycle-not-open = This cycle is not open yet.
desk-error-invalid-transition = This cycle cannot move to that state now.
desk-error-concurrent-change = The cycle changed meanwhile: reload the page.
desk-error-invalid-time = Give a time like 17:30.
desk-error-invalid-slot = The end must come after the start.
desk-error-unsolvable-round = This round cannot be planned (capacity or times).
desk-error-invalid-round = A round collects from at least one producer and delivers to at least one slot.
desk-error-unknown-slot = A chosen slot is not one of this cycle's.
desk-error-unknown-producer = A chosen producer does not exist.
desk-error-slug-taken = Another market already uses this identifier.
desk-error-invalid-timezone = Unknown time zone (for example Europe/Paris).
desk-error-producer-not-in-market = This producer does not sell through this market.
desk-error-producer-required = Choose the producer.
desk-error-pickup-point-required = Choose the pickup point.
desk-error-invalid-role = Choose a role.
desk-error-invalid-field = A required field is empty or too long.
desk-error-invalid-coordinates = Invalid coordinates.
desk-error-invalid-host-kind = Choose a kind of host.
desk-error-invalid-name = Give a name (200 characters at most).
desk-error-invalid-email = This email address does not look valid.
done-desk-cycle-created = The cycle is created.
done-desk-cycle-opened = The cycle is open for orders.
done-desk-cycle-closed = The cycle is closed.
done-desk-cycle-distributed = The cycle is marked as distributed.
done-desk-slots = The weekly slots are added.
done-desk-round-planned = The round is planned.
done-desk-round-replanned = The round is planned again.
done-desk-point-created = The pickup point is added.
done-desk-rule-created = The weekly slot is added.
done-desk-invitation-revoked = The invitation is withdrawn.
done-desk-market-created = The market is created. Now invite its coordinators.

## The market's vehicles, and rounds shared among them.
desk-vehicles-title = Vehicles
desk-vehicles-intro = The market's vehicles: a round can be shared among several of them, each within its capacity in crates and kilograms.
desk-vehicles-list = The vehicles
desk-vehicles-caption = Vehicles of { $market }
desk-col-vehicle = Vehicle
desk-col-crates = Crates
desk-col-kg = Kilograms
desk-col-actions = Actions
desk-no-vehicle = No vehicle yet: add one below.
desk-vehicle-archived = Archived
desk-vehicle-edit = Change { $name }
desk-vehicle-archive = Archive { $name }
desk-new-vehicle = Add a vehicle
desk-edit-vehicle = Change { $name }
desk-field-vehicle-name = Vehicle name
desk-field-vehicle-crates = Capacity in crates (1 to 10,000)
desk-field-vehicle-kg = Payload in kilograms
desk-field-vehicle-kg-hint = Leave empty if weight does not limit this vehicle.
desk-add-vehicle = Add the vehicle
desk-save-vehicle = Save
desk-error-vehicle-crates = Give a number of crates from 1 to 10,000.
desk-error-vehicle-kg = Give a weight in kilograms above 0, or leave empty.
desk-error-duplicate-name = The market already has a vehicle of that name.
desk-error-invalid-capacity = That capacity is not possible: 1 to 10,000 crates, and a weight above 0 (40,000 kg at most).
desk-error-vehicle-archived = A vehicle chosen is archived.
desk-error-unknown-vehicle = A vehicle chosen is not one of the market's.
done-desk-vehicle-saved = The vehicle is saved.
done-desk-vehicle-archived = The vehicle is archived.
desk-field-round-vehicles = The market's vehicles (optional)
desk-field-round-vehicles-hint = Tick the vehicles to share the round among; with none ticked, the round goes in one vehicle of the capacity below.
desk-vehicle-choice = { $name } ({ $crates } crates)
desk-vehicle-choice-kg = { $name } ({ $crates } crates, { $kg } kg)
desk-round-vehicle = Vehicle: { $name }
desk-round-vehicle-summary = { $km }, { $duration }; loaded: { $crates } crates of { $capacity }, { $kg } kg.
desk-round-caption-vehicle = The stops of { $name }, in order
