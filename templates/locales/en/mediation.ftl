# Digital mediation: ordering for a member.
mediation-title = Order for a member
mediation-intro = Find the person by name or phone, or create them if they have no account yet, then order for them.
mediation-search = Name or phone
mediation-search-submit = Search
mediation-results = People found
mediation-none = Nobody matches. You can create the person below.
mediation-order-for = Order for this person
mediation-create = New person
mediation-create-intro = No email needed: the name is enough, the phone helps to find them again.
mediation-create-submit = Create and order for this person
mediation-banner-label = Ordering for someone else
mediation-banner = Ordering for { $name }
mediation-banner-orders = Their orders
mediation-stop = Stop
done-mediation-stopped = You no longer order for this person.
