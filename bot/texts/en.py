TEXTS: dict[str, str] = {
    "welcome": "👋 Welcome to {shop}, {name}!",
    "welcome_back": "👋 Welcome back, {name}!",
    "reminder_soon": "⏳ Your VPN subscription ends {when} ({left} left). Renew to keep your access; your link stays the same.",
    "reminder_soon_trial": "⏳ Your trial ends {when} ({left} left). Subscribe to stay connected; your link stays the same.",
    "reminder_expired": "⌛ Your VPN subscription has ended. Renew and access comes back on the same link.",
    "reminder_expired_trial": "⌛ Your trial has ended. Subscribe and access comes back on the same link.",
    "reminder_winback": "👋 We miss you! Your VPN subscription ended {when}. Renew in two taps; the link is the same.",
    "button_renew": "➕ Renew subscription",
    "hours_left": "{n} h",
    "days_left": "{n} d",
}
