# Recipes: list, in season this month, one recipe and where to find its ingredients.
recipes-title = Seasonal recipes
recipes-month-label = Month
recipes-month-show = Show
recipes-in-season = In season in { $month }, by category
recipes-none-in-season = No recipe in season this month.
recipes-all = All recipes
recipes-serves = { $n ->
    [one] serves { $n }
   *[other] serves { $n }
}
recipes-minutes = { $n } min
recipes-all-year = all year round
recipes-season = Season:
recipes-ingredients = Ingredients
recipes-steps = Method
recipes-on-sale = On sale this week
recipes-on-sale-intro = In your market's open cycle when you are logged in, and in open cycles near a place: give its latitude and longitude (e.g. 46.6486 and -0.2469 for Parthenay).
recipes-field-lat = Latitude
recipes-field-lat-hint = In decimal degrees, e.g. 46.6486.
recipes-field-lon = Longitude
recipes-field-km = Radius (km, 5 to 100)
recipes-search = Search near here
recipes-your-market = your market
recipes-nothing-on-sale = None of these ingredients is on sale this week in an open cycle near here.
recipes-back = All recipes
recipes-error-month = The month goes from 1 to 12.
recipes-error-lat = A latitude between -90 and 90, e.g. 46.6486.
recipes-error-lon = A longitude between -180 and 180, e.g. -0.2469.
recipes-error-km = A radius from 5 to 100 km.
recipes-suggested = Recipes with this basket
recipes-covered = { $n } of its { $total } ingredients in your basket
recipes-link = Recipes
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
recipes-home-link = What to cook this month: seasonal recipes and where to find their ingredients
